// Copyright fluxbase authors.
// Invocation glue. Rust puts a pending invocation in OpState and calls
// `dispatch(handler)`; this builds the argument (a Request, or the parsed
// JSON payload of a job), awaits the handler and hands the outcome back
// through ops. The classes are captured here so that user code replacing
// `globalThis.Request` cannot interfere.

import { primordials } from "ext:core/mod.js";
import {
  op_invocation_job_done,
  op_invocation_respond,
  op_invocation_take,
  op_invocation_take_body,
} from "ext:core/ops";
const {
  ArrayFrom,
  JSONParse,
  JSONStringify,
  ObjectPrototypeIsPrototypeOf,
  TypeError,
  Uint8Array,
} = primordials;

let Request;
let ResponsePrototype;

/** Called once by the global-scope bootstrap with the fetch classes. */
function init(request, response) {
  Request = request;
  ResponsePrototype = response.prototype;
}

/** Calls the handler: a function, or an object whose `fetch` method is called on it. */
function call(handler, arg) {
  return typeof handler === "function" ? handler(arg) : handler.fetch(arg);
}

async function dispatch(handler) {
  const inv = op_invocation_take();
  if (inv.kind === "http") {
    const init = { method: inv.method, headers: inv.headers };
    if (inv.hasBody) {
      init.body = op_invocation_take_body();
    }
    const req = new Request(inv.url, init);
    const res = await call(handler, req);
    if (!ObjectPrototypeIsPrototypeOf(ResponsePrototype, res)) {
      throw new TypeError("the handler did not return a Response");
    }
    const body = res.body === null
      ? new Uint8Array(0)
      : new Uint8Array(await res.arrayBuffer());
    op_invocation_respond(res.status, ArrayFrom(res.headers), body);
  } else {
    const payload = JSONParse(inv.payloadJson);
    const result = await call(handler, payload);
    const json = result === undefined ? "null" : JSONStringify(result);
    op_invocation_job_done(json === undefined ? "null" : json);
  }
}

export { dispatch, init };
