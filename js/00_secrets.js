// Copyright fluxbase authors.
// The frozen `secrets` global. Values never live in JS longer than the caller
// keeps them: every `get` goes to Rust (`op_secret_get`), which also records
// the access.

import { primordials } from "ext:core/mod.js";
import { op_secret_get } from "ext:core/ops";
const { Error, ObjectFreeze, String, TypeError } = primordials;

function toName(name) {
  if (typeof name !== "string") {
    if (name === undefined || name === null) {
      throw new TypeError("secret name must be a string");
    }
    name = String(name);
  }
  return name;
}

/**
 * Returns the secret's value: the function secret, else the settings secret of
 * the user the call is made for, else the system settings secret; `undefined`
 * when none exists.
 */
function get(name) {
  const value = op_secret_get(toName(name));
  return value === null ? undefined : value;
}

/** Like `get`; throws an Error naming the secret when none exists. */
function getRequired(name) {
  const key = toName(name);
  const value = op_secret_get(key);
  if (value === null || value === undefined) {
    throw new Error(`Missing required secret: ${key}`);
  }
  return value;
}

const secrets = ObjectFreeze({
  __proto__: null,
  get,
  getRequired,
  [primordials.SymbolToStringTag]: "Secrets",
});

export { secrets };
