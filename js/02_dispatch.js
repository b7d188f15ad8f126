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
  op_invocation_take,
  op_invocation_take_body,
  op_invocation_write_chunk,
} from "ext:core/ops";
const {
  ArrayFrom,
  JSONParse,
  JSONStringify,
  ObjectPrototypeIsPrototypeOf,
  TypeError,
  TypedArrayPrototypeGetSymbolToStringTag,
  Uint8Array,
} = primordials;

let Request;
let ResponsePrototype;
let ReadableStream;
let ReadableStreamPrototype;
let toInnerResponse;

const EMPTY = new Uint8Array(0);

/** Called once by the global-scope bootstrap with the fetch and streams classes. */
function init(classes) {
  Request = classes.Request;
  ResponsePrototype = classes.Response.prototype;
  ReadableStream = classes.ReadableStream;
  ReadableStreamPrototype = classes.ReadableStream.prototype;
  toInnerResponse = classes.toInnerResponse;
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

async function respond(res) {
  const status = res.status;
  const headers = ArrayFrom(res.headers);
  // Looked at through the inner response: reading `res.body` would turn a
  // body held in memory into a stream.
  const body = toInnerResponse(res).body;
  if (body === null) {
    op_invocation_respond(status, headers, EMPTY);
    return;
  }
  if (!ObjectPrototypeIsPrototypeOf(ReadableStreamPrototype, body.streamOrStatic)) {
    op_invocation_respond(
      status,
      headers,
      new Uint8Array(await res.arrayBuffer()),
    );
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
    const init = { method: inv.method, headers: inv.headers };
    if (inv.body === "full") {
      init.body = op_invocation_take_body();
    } else if (inv.body === "stream") {
      init.body = requestBodyStream();
      init.duplex = "half";
    }
    const req = new Request(inv.url, init);
    const res = await call(handler, req);
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
