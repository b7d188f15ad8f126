// Copyright fluxbase authors.
// `Deno.errors`: the error classes Deno's ops throw by name (a file op without read access
// throws `NotCapable`, a missing file `NotFound`), registered with deno_core so that an op's
// error arrives as an instance of its class, as in Deno (runtime/js/01_errors.js there).
// Without a registered class deno_core throws `undefined`.

import { core, primordials } from "ext:core/mod.js";
const { Error, ObjectFreeze, SafeArrayIterator } = primordials;

/** A subclass of Error whose constructor and `name` are `name`. */
function errorClass(name) {
  return {
    [name]: class extends Error {
      constructor(message, options) {
        super(message, options);
        this.name = name;
      }
    },
  }[name];
}

const errors = {
  __proto__: null,
  BadResource: core.BadResource,
  Interrupted: core.Interrupted,
  NotCapable: core.NotCapable,
};
for (
  const name of new SafeArrayIterator([
    "NotFound",
    "PermissionDenied",
    "ConnectionRefused",
    "ConnectionReset",
    "ConnectionAborted",
    "NotConnected",
    "AddrInUse",
    "AddrNotAvailable",
    "BrokenPipe",
    "AlreadyExists",
    "InvalidData",
    "TimedOut",
    "WouldBlock",
    "WriteZero",
    "UnexpectedEof",
    "Http",
    "Busy",
    "NotSupported",
    "FilesystemLoop",
    "IsADirectory",
    "NetworkUnreachable",
    "NotADirectory",
  ])
) {
  errors[name] = errorClass(name);
  core.registerErrorClass(name, errors[name]);
}

/** `Deno.errors`. */
export const denoErrors = ObjectFreeze(errors);
