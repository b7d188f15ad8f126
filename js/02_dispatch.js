// Copyright fluxbase authors.
// Invocation glue. Rust puts a pending invocation in OpState and calls
// `dispatch(handler)`; this builds the argument (a Request, or the parsed
// JSON payload of a job), awaits the handler and hands the outcome back
// through ops. The classes are captured here so that user code replacing
// `globalThis.Request` cannot interfere.
//
// Bodies stream: a streamed request body is a ReadableStream that pulls one
// chunk from the host per read, and a Response whose body is a stream is sent
// as its head and then chunk by chunk, each write waiting for the host to take
// the previous ones (backpressure). A body already in memory (a string, bytes)
// goes out in one op call.

import { primordials } from "ext:core/mod.js";
import {
  op_invocation_job_done,
  op_invocation_read_chunk,
  op_invocation_respond,
  op_invocation_respond_head,
  op_invocation_respond_text,
  op_invocation_take,
  op_invocation_take_body,
  op_invocation_write_chunk,
} from "ext:core/ops";
const {
  JSONParse,
  JSONStringify,
  ObjectPrototypeIsPrototypeOf,
  TypeError,
  TypedArrayPrototypeGetSymbolToStringTag,
  Uint8Array,
} = primordials;

let fromInnerRequest;
let newInnerRequest;
let InnerBody;
let ResponsePrototype;
let ReadableStream;
let ReadableStreamPrototype;
let toInnerResponse;

const EMPTY = new Uint8Array(0);

/** Called once by the global-scope bootstrap with the fetch and streams internals. */
function init(internals) {
  fromInnerRequest = internals.fromInnerRequest;
  newInnerRequest = internals.newInnerRequest;
  InnerBody = internals.InnerBody;
  ResponsePrototype = internals.Response.prototype;
  ReadableStream = internals.ReadableStream;
  ReadableStreamPrototype = internals.ReadableStream.prototype;
  toInnerResponse = internals.toInnerResponse;
}

/** Calls the handler: a function, or an object whose `fetch` method is called on it. */
function call(handler, arg) {
  return typeof handler === "function" ? handler(arg) : handler.fetch(arg);
}

/** The streamed request body: each read pulls the next chunk from the host. */
function requestBodyStream() {
  return new ReadableStream({
    async pull(controller) {
      const chunk = await op_invocation_read_chunk();
      if (chunk === null) {
        controller.close();
      } else {
        controller.enqueue(chunk);
      }
    },
  }, { highWaterMark: 0 });
}

/**
 * The request the handler is called with, built the way `Deno.serve` builds
 * its own: from an inner request over the host's already validated method,
 * URL and header list, with immutable headers.
 */
function newRequest(inv) {
  let body = null;
  if (inv.body === "full") {
    const bytes = op_invocation_take_body();
    body = new InnerBody({ body: bytes, consumed: false });
    body.source = bytes;
    body.length = bytes.byteLength;
  } else if (inv.body === "stream") {
    body = new InnerBody(requestBodyStream());
  }
  const headerList = inv.headers;
  const inner = newInnerRequest(inv.method, inv.url, () => headerList, body, false);
  return fromInnerRequest(inner, "immutable");
}

async function respond(res) {
  // Looked at through the inner response: reading `res.body` would turn a
  // body held in memory into a stream, and `res.headers` would copy the list.
  const inner = toInnerResponse(res);
  const status = inner.status;
  const headers = inner.headerList;
  const body = inner.body;
  if (body === null) {
    op_invocation_respond(status, headers, EMPTY);
    return;
  }
  const held = body.streamOrStatic;
  if (!ObjectPrototypeIsPrototypeOf(ReadableStreamPrototype, held)) {
    if (held.consumed) {
      throw new TypeError("the Response body was already read");
    }
    held.consumed = true;
    // A string body is encoded by the host, without a copy through JS.
    if (typeof held.body === "string") {
      op_invocation_respond_text(status, headers, held.body);
    } else {
      op_invocation_respond(status, headers, held.body);
    }
    return;
  }
  op_invocation_respond_head(status, headers);
  const reader = res.body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) {
      return;
    }
    if (TypedArrayPrototypeGetSymbolToStringTag(value) !== "Uint8Array") {
      throw new TypeError("a Response body stream must yield Uint8Array chunks");
    }
    if (!(await op_invocation_write_chunk(value))) {
      // The client went away: stop the handler's stream, nothing is waiting for it.
      try {
        await reader.cancel();
      } catch {
        // The stream's own cancel failing changes nothing here.
      }
      return;
    }
  }
}

async function dispatch(handler) {
  const inv = op_invocation_take();
  if (inv.kind === "http") {
    const res = await call(handler, newRequest(inv));
    if (!ObjectPrototypeIsPrototypeOf(ResponsePrototype, res)) {
      throw new TypeError("the handler did not return a Response");
    }
    await respond(res);
  } else {
    const payload = JSONParse(inv.payloadJson);
    const result = await call(handler, payload);
    const json = result === undefined ? "null" : JSONStringify(result);
    op_invocation_job_done(json === undefined ? "null" : json);
  }
}

export { dispatch, init };
