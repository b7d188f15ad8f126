// Copyright fluxbase authors.
// Errors that no call awaits: an exception thrown in a timer or microtask
// callback, a promise rejected with nothing to handle it (a timer left behind
// by an earlier call, say), and `reportError(e)`. As on the web and in Deno,
// each is dispatched on the global scope first (`error` or
// `unhandledrejection`), where a listener may cancel it. Deno ends the process
// when none does; a host whose warm isolate serves one caller after another
// must not fail the call running with a stray error that may belong to an
// earlier one. So an uncancelled one becomes an error line on the console
// sink, which redacts it against every secret value the isolate has been given
// and keeps it in the execution record of the call running; that call goes on.
// The exception is a call serving a WebSocket (06_upgrade.js): it is its own
// isolate's only call until the socket closes, and an uncancelled error ends it,
// as it ends Deno's process, with that error in its record.

import { primordials } from "ext:core/mod.js";
import { op_console_write } from "ext:core/ops";
const { ObjectPrototypeIsPrototypeOf, String } = primordials;

/** deno_web's console print level for errors (see `LogLevel::from_console_level`). */
const ERROR_LEVEL = 3;

let webidl;
let ErrorEvent;
let ErrorPrototype;
let PromiseRejectionEvent;
/** Nesting of `reportException`: an `error` listener that throws is reported once, plainly. */
let reporting = 0;
/** Ends the WebSocket session running with an uncancelled error; false when none runs. */
let endSession = () => false;

/**
 * Called once by the global-scope bootstrap with deno_webidl, deno_web's events and the
 * WebSocket sessions' `endSession`.
 */
function init(internals) {
  webidl = internals.webidl;
  ErrorEvent = internals.ErrorEvent;
  PromiseRejectionEvent = internals.PromiseRejectionEvent;
  ErrorPrototype = primordials.ErrorPrototype;
  endSession = internals.endSession;
}

/** `error` as it is shown: its stack for an Error, else its string form. */
function describe(error) {
  try {
    if (
      ObjectPrototypeIsPrototypeOf(ErrorPrototype, error) &&
      typeof error.stack === "string"
    ) {
      return error.stack;
    }
    return String(error);
  } catch {
    return "(an error value that cannot be turned into text)";
  }
}

/** `error.message` when there is one, without running user code that throws. */
function messageOf(error) {
  try {
    return ObjectPrototypeIsPrototypeOf(ErrorPrototype, error)
      ? String(error.message)
      : describe(error);
  } catch {
    return "";
  }
}

/** Writes an uncancelled stray error to the console sink. */
function log(prefix, error) {
  op_console_write(ERROR_LEVEL, `${prefix}${describe(error)}`);
}

/** Reports an exception nothing caught (HTML's "report the exception"). */
function reportException(error) {
  reporting++;
  try {
    let uncancelled = true;
    if (reporting === 1) {
      const event = new ErrorEvent("error", {
        cancelable: true,
        message: messageOf(error),
        error,
      });
      uncancelled = globalThis.dispatchEvent(event);
    }
    if (uncancelled && !endSession(error)) {
      log("Uncaught ", error);
    }
  } catch (listenerError) {
    log("Uncaught ", listenerError);
  } finally {
    reporting--;
  }
}

/**
 * Handles a promise rejected with no handler attached by the end of a tick.
 * Returns true: deno_core would otherwise fail the call running with it.
 */
function handleUnhandledRejection(promise, reason) {
  let uncancelled = true;
  try {
    const event = new PromiseRejectionEvent("unhandledrejection", {
      cancelable: true,
      promise,
      reason,
    });
    uncancelled = globalThis.dispatchEvent(event);
  } catch (listenerError) {
    log("Uncaught ", listenerError);
  }
  if (uncancelled && !endSession(reason)) {
    log("Uncaught (in promise) ", reason);
  }
  return true;
}

/** The `reportError` global. */
function reportError(error) {
  webidl.requiredArguments(
    arguments.length,
    1,
    "Failed to execute 'reportError'",
  );
  reportException(error);
}

/** Logs a `waitUntil` promise that rejected (the response has already gone out). */
function reportBackgroundFailure(reason) {
  log("Uncaught (in waitUntil) ", reason);
}

export {
  handleUnhandledRejection,
  init,
  reportBackgroundFailure,
  reportError,
  reportException,
};
