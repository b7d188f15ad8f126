// Copyright fluxbase authors.
// `Deno.env` over the isolate-local env map kept in Rust (OpState). Changing
// it never touches the host process environment.

import { primordials } from "ext:core/mod.js";
import {
  op_env_delete,
  op_env_get,
  op_env_set,
  op_env_to_object,
} from "ext:core/ops";
const { ObjectFreeze, String } = primordials;

/** Returns the value of `key`, or `undefined`. */
function get(key) {
  const value = op_env_get(String(key));
  return value === null ? undefined : value;
}

/** Sets `key` to `value` in this isolate only. */
function set(key, value) {
  op_env_set(String(key), String(value));
}

/** Removes `key`. */
function del(key) {
  op_env_delete(String(key));
}

/** Whether `key` is set. */
function has(key) {
  return get(key) !== undefined;
}

/** A plain object snapshot of the whole env. */
function toObject() {
  return op_env_to_object();
}

const env = ObjectFreeze({
  __proto__: null,
  get,
  set,
  delete: del,
  has,
  toObject,
});

export { env };
