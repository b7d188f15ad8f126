// Copyright fluxbase authors.
// The one file that installs the global scope of a fluxbase isolate. Modelled
// on denoland/deno runtime/js/98_global_scope_shared.js + 99_main.js, cut down
// to what an edge function may use: web APIs, `secrets`, `Deno.env`, `Deno.serve` and
// `Deno.upgradeWebSocket`.
// No fs, subprocess, ffi or raw-socket APIs are reachable: `Deno.core` (the op
// table) and `__bootstrap` are removed from the global object by `finalize`.
//
// Every web extension script a global leads to is loaded here, so that when this runs while
// the startup snapshot is built all of it is in the snapshot: an isolate restored from it
// compiles and evaluates none of them again.

import { core, internals, primordials } from "ext:core/mod.js";
import { secrets } from "ext:fluxbase/00_secrets.js";
import { env } from "ext:fluxbase/01_env.js";
import * as dispatch from "ext:fluxbase/02_dispatch.js";
import { createConsole } from "ext:fluxbase/03_console.js";
import * as errors from "ext:fluxbase/04_errors.js";
import { Navigator, navigator } from "ext:fluxbase/05_navigator.js";
import * as upgrade from "ext:fluxbase/06_upgrade.js";
import { denoErrors } from "ext:fluxbase/07_deno_errors.js";
import {
  op_egress_check_host,
  op_fluxbase_build_target,
  op_fluxbase_cpu_usage,
  op_fluxbase_v8_version,
} from "ext:core/ops";
// An ES module of deno_websocket made eager for the snapshot (see `websocket_eager` in
// runtime/isolate/boot.rs).
import * as websocket from "ext:deno_websocket/01_websocket.js";
const {
  ObjectDefineProperty,
  ObjectFreeze,
  ObjectSetPrototypeOf,
  Proxy,
  ReflectConstruct,
  SafeArrayIterator,
  SymbolFor,
} = primordials;

const webidl = core.loadExtScript("ext:deno_webidl/00_webidl.js");
const event = core.loadExtScript("ext:deno_web/02_event.js");
const url = core.loadExtScript("ext:deno_web/00_url.js");
const { URLPattern } = core.loadExtScript("ext:deno_web/01_urlpattern.js");
const { DOMException, QuotaExceededError } = core.loadExtScript(
  "ext:deno_web/01_dom_exception.js",
);
const abortSignal = core.loadExtScript("ext:deno_web/03_abort_signal.js");
const streams = core.loadExtScript("ext:deno_web/06_streams.js");
const file = core.loadExtScript("ext:deno_web/09_file.js");
const headers = core.loadExtScript("ext:deno_fetch/20_headers.js");
const body = core.loadExtScript("ext:deno_fetch/22_body.js");
const formData = core.loadExtScript("ext:deno_fetch/21_formdata.js");
const request = core.loadExtScript("ext:deno_fetch/23_request.js");
const response = core.loadExtScript("ext:deno_fetch/23_response.js");
const timers = core.loadExtScript("ext:deno_web/02_timers.js");
const base64 = core.loadExtScript("ext:deno_web/05_base64.js");
const encoding = core.loadExtScript("ext:deno_web/08_text_encoding.js");
const performance = core.loadExtScript("ext:deno_web/15_performance.js");
const compression = core.loadExtScript("ext:deno_web/14_compression.js");
// MessageChannel/MessagePort, and the `structuredClone` that takes `transfer` (the one of
// 02_structured_clone.js has no options), as Deno's global scope has it.
const messagePort = core.loadExtScript("ext:deno_web/13_message_port.js");
// Between the channels of one isolate: each isolate gets its own InMemoryBroadcastChannel
// (runtime/isolate/boot.rs), so no message crosses to another function or invocation.
const { BroadcastChannel } = core.loadExtScript(
  "ext:deno_web/01_broadcast_channel.js",
);
const { Window } = core.loadExtScript("ext:deno_web/04_global_interfaces.js");
const crypto = core.loadExtScript("ext:deno_crypto/00_crypto.js");
const consoleScript = core.loadExtScript("ext:deno_web/01_console.js");
// The host facts of the `Deno` namespace (and of Node's `os`/`process`): refused.
const os = core.loadExtScript("ext:deno_os/30_os.js");

// 26_fetch.js destructures OpenTelemetry hooks from `internals` and would
// load them from the deno_telemetry extension, which we do not ship. Tracing
// is off, so inert stand-ins are enough.
const DID_NOT_ENTER = {};
internals.__telemetry ??= {
  TRACING_ENABLED: false,
  PROPAGATORS: [],
  DID_NOT_ENTER,
  builtinTracer() {
    throw new Error("telemetry is not available");
  },
  ContextManager: { active: () => undefined },
  enterSpan: () => DID_NOT_ENTER,
  exitSpan: () => {},
};
internals.__telemetryUtil ??= {
  updateSpanFromClientResponse: () => {},
  updateSpanFromError: () => {},
  updateSpanFromRequest: () => {},
};
// deno_fetch's `fetch`, with the TLS helpers its http client needs.
core.loadExtScript("ext:deno_net/02_tls.js");
const fetch = core.loadExtScript("ext:deno_fetch/26_fetch.js");
// Connects through deno_fetch's own request path, so the egress checks of `fetch` apply.
const { EventSource } = core.loadExtScript("ext:deno_fetch/27_eventsource.js");

// The WebSocket client of deno_websocket (imported above). Its handshake goes through
// deno_fetch's client, so a host name meets fetch's resolver, but not through fetch's request hook: an IP literal is checked here, before the
// constructor's first op, as that hook does for fetch. The URL is converted to a string once and
// that string is what the constructor gets, so a `toString` cannot answer the check and the
// connection differently.
const WebSocket = new Proxy(websocket.WebSocket, {
  __proto__: null,
  construct(target, args, newTarget) {
    if (args.length > 0) {
      const href = webidl.converters.USVString(
        args[0],
        "Failed to construct 'WebSocket'",
        "Argument 1",
      );
      args[0] = href;
      let parsed = null;
      try {
        parsed = new url.URL(href);
      } catch {
        // Not a URL: the constructor throws its own SyntaxError.
      }
      if (parsed !== null) op_egress_check_host(parsed.hostname);
    }
    return ReflectConstruct(target, args, newTarget);
  },
});

// Ops throw DOMExceptions by class name: "DOMException" + the exception's name (deno_web's
// base64 ops "DOMExceptionInvalidCharacterError", deno_crypto's "DOMExceptionDataError" and
// "DOMExceptionQuotaExceededError", ...). deno_core builds such an error only from a builder
// registered under that class name, and throws `undefined` without one. These are the names
// the extensions we load use, registered as Deno's runtime/js/99_main.js does.
for (
  const name of new SafeArrayIterator([
    "DataError",
    "IndexSizeError",
    "InvalidAccessError",
    "InvalidCharacterError",
    "InvalidStateError",
    "NetworkError",
    "AbortError",
    "NotSupportedError",
    "OperationError",
    "SyntaxError",
    "TypeMismatchError",
  ])
) {
  core.registerErrorBuilder(
    `DOMException${name}`,
    (message) => new DOMException(message, name),
  );
}
core.registerErrorBuilder(
  "DOMExceptionQuotaExceededError",
  (message) => new QuotaExceededError(message),
);

dispatch.init({
  fromInnerRequest: request.fromInnerRequest,
  newInnerRequest: request.newInnerRequest,
  InnerBody: body.InnerBody,
  Response: response.Response,
  toInnerResponse: response.toInnerResponse,
  ReadableStream: streams.ReadableStream,
  reportBackgroundFailure: errors.reportBackgroundFailure,
  socketOf: upgrade.socketOf,
  serveSocket: upgrade.serveSocket,
  retireSession: upgrade.retireSession,
});
upgrade.init({
  toInnerRequest: request.toInnerRequest,
  newInnerResponse: response.newInnerResponse,
  fromInnerResponse: response.fromInnerResponse,
  setEventTargetData: event.setEventTargetData,
  Event: event.Event,
});

// Console output goes to the Rust-side sink (redacted and bounded there) as plain text,
// without ANSI colors.
consoleScript.setNoColorFns(() => true, () => true);
const console = createConsole(consoleScript.Console);

// Node's globals, as Deno 2 has them: each loads its `node:` builtin (deno_node's polyfill,
// runtime/isolate/node.rs) the first time it is read, so an isolate that never touches them
// pays nothing, and nothing of Node is in the startup snapshot.
const lazyProcess = core.createLazyLoader("node:process");
const lazyBuffer = core.createLazyLoader("node:buffer");
const lazyTimers = core.createLazyLoader("node:timers");

/** `Deno.memoryUsage()`: this isolate's heap (`rss` is the heap's physical size). */
function memoryUsage() {
  const usage = core.memoryUsage();
  return {
    rss: usage.physicalTotal,
    heapTotal: usage.heapTotal,
    heapUsed: usage.heapUsed,
    external: usage.external,
  };
}

const usageBuffer = new Float64Array(2);
/** `Deno.cpuUsage()`: the CPU time of this isolate's thread, in microseconds. */
function cpuUsage() {
  op_fluxbase_cpu_usage(usageBuffer);
  return { system: usageBuffer[0], user: usageBuffer[1] };
}

// `core.build` (which Node's `process.arch` reads) and `Deno.build`: the platform this binary
// was built for.
core.setBuildInfo(op_fluxbase_build_target());
const build = ObjectFreeze({ ...core.build, standalone: false });
/**
 * `Deno.version`: the Deno release whose behaviour fluxbase is checked against (the
 * conformance test runs that Deno), and the V8 it runs on.
 */
const version = ObjectFreeze({
  deno: "2.9.6",
  v8: op_fluxbase_v8_version(),
  typescript: "",
});

const globalScope = {
  // fetch
  Headers: core.propNonEnumerable(headers.Headers),
  Request: core.propNonEnumerable(request.Request),
  Response: core.propNonEnumerable(response.Response),
  FormData: core.propNonEnumerable(formData.FormData),
  fetch: core.propWritable(fetch.fetch),
  // url
  URL: core.propNonEnumerable(url.URL),
  URLSearchParams: core.propNonEnumerable(url.URLSearchParams),
  URLPattern: core.propNonEnumerable(URLPattern),
  // encoding
  TextEncoder: core.propNonEnumerable(encoding.TextEncoder),
  TextDecoder: core.propNonEnumerable(encoding.TextDecoder),
  TextEncoderStream: core.propNonEnumerable(encoding.TextEncoderStream),
  TextDecoderStream: core.propNonEnumerable(encoding.TextDecoderStream),
  atob: core.propWritable(base64.atob),
  btoa: core.propWritable(base64.btoa),
  // console
  console: core.propNonEnumerable(console),
  // timers & scheduling (queueMicrotask is installed by deno_core itself)
  setTimeout: core.propWritable(timers.setTimeout),
  setInterval: core.propWritable(timers.setInterval),
  clearTimeout: core.propWritable(timers.clearTimeout),
  clearInterval: core.propWritable(timers.clearInterval),
  structuredClone: core.propWritable(messagePort.structuredClone),
  performance: core.propWritable(performance.performance),
  Performance: core.propNonEnumerable(performance.Performance),
  PerformanceEntry: core.propNonEnumerable(performance.PerformanceEntry),
  PerformanceMark: core.propNonEnumerable(performance.PerformanceMark),
  PerformanceMeasure: core.propNonEnumerable(performance.PerformanceMeasure),
  PerformanceObserver: core.propNonEnumerable(performance.PerformanceObserver),
  PerformanceObserverEntryList: core.propNonEnumerable(
    performance.PerformanceObserverEntryList,
  ),
  // events & abort
  Event: core.propNonEnumerable(event.Event),
  EventTarget: core.propNonEnumerable(event.EventTarget),
  ErrorEvent: core.propNonEnumerable(event.ErrorEvent),
  CustomEvent: core.propNonEnumerable(event.CustomEvent),
  PromiseRejectionEvent: core.propNonEnumerable(event.PromiseRejectionEvent),
  MessageEvent: core.propNonEnumerable(event.MessageEvent),
  CloseEvent: core.propNonEnumerable(event.CloseEvent),
  ProgressEvent: core.propNonEnumerable(event.ProgressEvent),
  DOMException: core.propNonEnumerable(DOMException),
  QuotaExceededError: core.propNonEnumerable(QuotaExceededError),
  AbortController: core.propNonEnumerable(abortSignal.AbortController),
  AbortSignal: core.propNonEnumerable(abortSignal.AbortSignal),
  reportError: core.propWritable(errors.reportError),
  // blob & streams
  Blob: core.propNonEnumerable(file.Blob),
  File: core.propNonEnumerable(file.File),
  ReadableStream: core.propNonEnumerable(streams.ReadableStream),
  ReadableStreamDefaultReader: core.propNonEnumerable(
    streams.ReadableStreamDefaultReader,
  ),
  WritableStream: core.propNonEnumerable(streams.WritableStream),
  TransformStream: core.propNonEnumerable(streams.TransformStream),
  ByteLengthQueuingStrategy: core.propNonEnumerable(
    streams.ByteLengthQueuingStrategy,
  ),
  CountQueuingStrategy: core.propNonEnumerable(streams.CountQueuingStrategy),
  CompressionStream: core.propNonEnumerable(compression.CompressionStream),
  DecompressionStream: core.propNonEnumerable(compression.DecompressionStream),
  // messaging
  MessageChannel: core.propNonEnumerable(messagePort.MessageChannel),
  MessagePort: core.propNonEnumerable(messagePort.MessagePort),
  BroadcastChannel: core.propNonEnumerable(BroadcastChannel),
  EventSource: core.propWritable(EventSource),
  WebSocket: core.propNonEnumerable(WebSocket),
  // crypto: the Crypto instance is a cppgc object, which cannot be made while the snapshot is
  // built; deno_crypto mints it on first access.
  crypto: core.propGetterOnly(() => crypto.crypto),
  Crypto: core.propNonEnumerable(crypto.Crypto),
  CryptoKey: core.propNonEnumerable(crypto.CryptoKey),
  SubtleCrypto: core.propNonEnumerable(crypto.SubtleCrypto),
  // the window: `self` is the global object, as in Deno, and so is Node's `global`
  self: core.propGetterOnly(() => globalThis),
  global: core.propWritable(globalThis),
  // Node's globals (see above)
  process: core.propWritableLazyLoaded((m) => m.default, lazyProcess),
  Buffer: core.propWritableLazyLoaded((m) => m.Buffer, lazyBuffer),
  setImmediate: core.propWritableLazyLoaded((m) => m.setImmediate, lazyTimers),
  clearImmediate: core.propWritableLazyLoaded(
    (m) => m.clearImmediate,
    lazyTimers,
  ),
  Window: core.propNonEnumerable(Window),
  Navigator: core.propNonEnumerable(Navigator),
  navigator: core.propGetterOnly(() => navigator),
  // fluxbase
  secrets: core.propReadOnly(secrets),
  // Supabase's `EdgeRuntime.waitUntil`, the same as `ctx.waitUntil`.
  EdgeRuntime: core.propReadOnly(
    ObjectFreeze({ __proto__: null, waitUntil: dispatch.waitUntil }),
  ),
  // Branding as a WebIDL object
  [webidl.brand]: core.propNonEnumerable(webidl.brand),
};

core.defineGlobalProperties(globalThis, globalScope);

// The global scope is a Window, so an EventTarget, as in Deno: `addEventListener` and
// `dispatchEvent` are global functions, and stray errors are dispatched on it
// (`addEventListener("error", ...)`, `"unhandledrejection"`).
ObjectSetPrototypeOf(globalThis, Window.prototype);
event.setEventTargetData(globalThis);
event.saveGlobalThisReference(globalThis);
errors.init({
  webidl,
  ErrorEvent: event.ErrorEvent,
  PromiseRejectionEvent: event.PromiseRejectionEvent,
  endSession: upgrade.endSession,
});
core.setReportExceptionCallback(errors.reportException);
core.setUnhandledPromiseRejectionHandler(errors.handleUnhandledRejection);

/**
 * Per-isolate finishing step, run by Rust right after the isolate is created
 * (from the snapshot or not). It cannot run while the snapshot is built:
 * deno_core needs `Deno.core.ops` on the global object when it restores a
 * snapshot. Afterwards `Deno` only carries `env`, `serve` and `upgradeWebSocket`,
 * and neither the op table nor `__bootstrap` is reachable from user code. It also
 * starts the clock of `performance` (its `timeOrigin` is the isolate's start, not
 * the snapshot's).
 */
function finalize() {
  performance.setTimeOrigin();
  ObjectDefineProperty(
    globalThis,
    "Deno",
    core.propReadOnly(
      ObjectFreeze({
        __proto__: null,
        env,
        serve: dispatch.serve,
        upgradeWebSocket: upgrade.upgradeWebSocket,
        errors: denoErrors,
        build,
        version,
        args: ObjectFreeze([]),
        noColor: true,
        // What Node's `process` reads of its host. A function sees none of the host's: its
        // process is 1, its directory `/`, its program `fluxbase`.
        pid: 1,
        ppid: 0,
        mainModule: undefined,
        cwd: () => "/",
        execPath: () => "fluxbase",
        exit: os.exit,
        hostname: os.hostname,
        osRelease: os.osRelease,
        osUptime: os.osUptime,
        loadavg: os.loadavg,
        networkInterfaces: os.networkInterfaces,
        systemMemoryInfo: os.systemMemoryInfo,
        uid: os.uid,
        gid: os.gid,
        memoryUsage,
        cpuUsage,
      }),
    ),
  );
  // What node:process and node:module read when first loaded (Deno's 99_main.js passes the
  // same): no node_modules folder of the function's own, one thread, no arguments.
  internals.__nodeBootstrapArgs = {
    usesLocalNodeModulesDir: false,
    runningOnMainThread: true,
    argv0: "fluxbase",
    nodeDebug: "",
    denoArgs: [],
    denoVersion: version,
  };
  delete globalThis.__bootstrap;
}

// Taken (and deleted) by Rust once per isolate; see `take_dispatch_fn`.
ObjectDefineProperty(globalThis, SymbolFor("fluxbase.internal"), {
  __proto__: null,
  value: ObjectFreeze({ __proto__: null, dispatch: dispatch.dispatch, finalize }),
  configurable: true,
  enumerable: false,
  writable: false,
});
