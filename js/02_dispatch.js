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
//
// The handler's second argument, `ctx`, carries the caller (`user`: id and token claims, or
// null), the namespace and the execution id, and `waitUntil(promise)`: work that goes on after
// the response has gone out, in the same execution (same limits, same record). `EdgeRuntime`'s
// `waitUntil` (Supabase) is the same function.
//
// A handler that returns the response of `Deno.upgradeWebSocket` (06_upgrade.js) gets its
// socket served: the call goes on until the socket is closed, and then until its `waitUntil`
// work settles.

import { primordials } from "ext:core/mod.js";
import {
  op_invocation_job_done,
  op_invocation_read_chunk,
  op_invocation_respond,
  op_invocation_respond_head,
  op_invocation_respond_text,
  op_invocation_response_complete,
  op_invocation_take,
  op_invocation_take_body,
  op_invocation_write_chunk,
  op_job_progress,
} from "ext:core/ops";
const {
  ArrayBufferIsView,
  ArrayPrototypeIncludes,
  ArrayPrototypePush,
  JSONParse,
  JSONStringify,
  Number,
  ObjectDefineProperty,
  ObjectFreeze,
  ObjectKeys,
  ObjectPrototypeIsPrototypeOf,
  Promise,
  PromiseResolve,
  SafePromiseAllSettled,
  String,
  SymbolFor,
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
let Response;
let reportBackgroundFailure;
let socketOf;
let serveSocket;
let retireSession;

const EMPTY = new Uint8Array(0);

/** The promises the running invocation handed to `waitUntil`; null between invocations. */
let background = null;

/** Called once by the global-scope bootstrap with the fetch and streams internals. */
function init(internals) {
  reportBackgroundFailure = internals.reportBackgroundFailure;
  socketOf = internals.socketOf;
  serveSocket = internals.serveSocket;
  retireSession = internals.retireSession;
  fromInnerRequest = internals.fromInnerRequest;
  newInnerRequest = internals.newInnerRequest;
  InnerBody = internals.InnerBody;
  ResponsePrototype = internals.Response.prototype;
  ReadableStream = internals.ReadableStream;
  ReadableStreamPrototype = internals.ReadableStream.prototype;
  toInnerResponse = internals.toInnerResponse;
  Response = internals.Response;
}

/** The keys of a `{ status, headers, body }` answer (Fluxbase style). */
const ANSWER_KEYS = ["status", "statusText", "headers", "body"];

/** Whether `value` is a `{ status, headers, body }` answer rather than a JSON value. */
function isAnswerObject(value) {
  if (value === null || typeof value !== "object") {
    return false;
  }
  const keys = ObjectKeys(value);
  if (keys.length === 0 || !("status" in value || "body" in value)) {
    return false;
  }
  for (let i = 0; i < keys.length; i++) {
    if (!ArrayPrototypeIncludes(ANSWER_KEYS, keys[i])) {
      return false;
    }
  }
  return true;
}

/**
 * What a handler returned as a Response: a Response as is; a `{ status, headers, body }` object
 * (a body that is not a string, bytes, a Blob or a stream is sent as JSON); nothing as 204;
 * any other value as JSON with status 200.
 */
function asResponse(value) {
  if (ObjectPrototypeIsPrototypeOf(ResponsePrototype, value)) {
    return value;
  }
  if (value === undefined) {
    return new Response(null, { status: 204 });
  }
  if (isAnswerObject(value)) {
    const { body, status, statusText, headers } = value;
    const sendsAsIs = body === undefined || body === null || typeof body === "string" ||
      ArrayBufferIsView(body) || ObjectPrototypeIsPrototypeOf(ReadableStreamPrototype, body) ||
      (typeof body === "object" && typeof body.arrayBuffer === "function");
    if (sendsAsIs) {
      return new Response(body ?? null, { status, statusText, headers });
    }
    return Response.json(body, { status, statusText, headers });
  }
  const json = JSONStringify(value);
  if (json === undefined) {
    throw new TypeError(
      "the handler returned a value that is neither a Response nor JSON",
    );
  }
  return Response.json(value);
}

/**
 * `Deno.serve(handler)`, `Deno.serve(options, handler)` or `Deno.serve({ handler })`: the host
 * opens no socket; the handler is kept for the dispatcher (Rust takes it once the module's top
 * level has run, see `served_handler`). Returns a stand-in for Deno's `HttpServer`.
 */
function serve(optionsOrHandler, maybeHandler) {
  const handler = typeof optionsOrHandler === "function"
    ? optionsOrHandler
    : typeof maybeHandler === "function"
    ? maybeHandler
    : optionsOrHandler?.handler;
  if (typeof handler !== "function") {
    throw new TypeError("Deno.serve needs a handler function");
  }
  ObjectDefineProperty(globalThis, SymbolFor("fluxbase.served"), {
    __proto__: null,
    value: handler,
    configurable: true,
    enumerable: false,
    writable: false,
  });
  return ObjectFreeze({
    __proto__: null,
    // Like Deno's: settles when the server has shut down, which a host-run function never does.
    finished: new Promise(() => {}),
    addr: ObjectFreeze({ transport: "tcp", hostname: "0.0.0.0", port: 0 }),
    shutdown: () => Promise.resolve(),
    ref: () => {},
    unref: () => {},
  });
}

/**
 * `ctx.waitUntil(promise)` and `EdgeRuntime.waitUntil(promise)`: keeps the execution going
 * until `promise` settles, after the response has gone out. A rejection is logged in the
 * execution record; it does not change the response.
 */
function waitUntil(promise) {
  if (background === null) {
    throw new TypeError("waitUntil can only be called while a handler runs");
  }
  ArrayPrototypePush(background, PromiseResolve(promise));
}

/** Waits for every `waitUntil` promise, including those added while waiting. */
async function settleBackground() {
  while (background.length > 0) {
    const batch = background;
    background = [];
    const results = await SafePromiseAllSettled(batch);
    for (let i = 0; i < results.length; i++) {
      if (results[i].status === "rejected") {
        reportBackgroundFailure(results[i].reason);
      }
    }
  }
}

/**
 * `ctx.progress(percent, message)` of a job: how far it has come (0 to 100), shown on its run
 * while it runs. The message passes the redactor.
 */
function jobProgress(percent, message) {
  op_job_progress(Number(percent), message === undefined ? null : String(message));
}

/** The handler's second argument: who called, where it runs, and `waitUntil`. */
function newContext(inv, extra) {
  const raw = JSONParse(inv.contextJson);
  return ObjectFreeze({
    __proto__: null,
    user: raw.user ? ObjectFreeze({ id: raw.user.id, claims: ObjectFreeze(raw.user.claims) }) : null,
    namespace: raw.namespace,
    executionId: raw.executionId,
    waitUntil,
    ...extra,
  });
}

/** Calls the handler: a function, or an object whose `fetch` method is called on it. */
function call(handler, arg, ctx) {
  return typeof handler === "function" ? handler(arg, ctx) : handler.fetch(arg, ctx);
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
  // Before anything of an earlier invocation can run again (its timers, its pending reads).
  retireSession();
  const inv = op_invocation_take();
  background = [];
  try {
    if (inv.kind === "http") {
      const ctx = newContext(inv, {});
      const res = asResponse(await call(handler, newRequest(inv), ctx));
      const socket = socketOf(res);
      if (socket !== undefined) {
        await serveSocket(socket, () => respond(res));
      } else {
        await respond(res);
        if (background.length > 0) {
          // The response is whole: it leaves now, and the execution goes on.
          op_invocation_response_complete();
        }
      }
    } else {
      const payload = JSONParse(inv.payloadJson);
      const ctx = newContext(inv, {
        runId: JSONParse(inv.contextJson).runId ?? null,
        progress: jobProgress,
      });
      const result = await call(handler, payload, ctx);
      const json = result === undefined ? "null" : JSONStringify(result);
      op_invocation_job_done(json === undefined ? "null" : json);
    }
    await settleBackground();
  } finally {
    background = null;
  }
}

export { dispatch, init, serve, waitUntil };
