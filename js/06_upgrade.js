// Copyright fluxbase authors.
// `Deno.upgradeWebSocket(request, options)`, as Deno's ext/http/02_websocket.ts does it: the
// same header checks and errors, the same 101 response (`upgrade`, `connection`,
// `sec-websocket-accept`, and `sec-websocket-protocol` when `options.protocol` is one the
// client offered), and deno_websocket's own `WebSocket` in its server role (binaryType
// "arraybuffer", `idleTimeout` seconds of silence before a ping, 30 by default).
//
// The socket opens when the handler returns the response: the dispatcher then asks
// `serveSocket` to accept the request's connection (the host upgrades it and relays it to the
// isolate), and the invocation goes on until the socket is closed, so its console lines, its
// limits and its execution record cover the socket's whole life. An error nothing catches while
// a socket is served (a listener that throws, a rejection nothing handles) ends the invocation
// with that error and cuts the connection without a close frame, as the same error ends Deno's
// process, and the function's listeners hear nothing more. What the socket carries passes
// through deno_websocket only.

import { core, primordials } from "ext:core/mod.js";
import {
  op_upgrade_abort,
  op_upgrade_accept,
  op_upgrade_accept_key,
} from "ext:core/ops";
import {
  _eventLoop,
  _idleTimeoutDuration,
  _idleTimeoutTimeout,
  _readyState,
  _rid,
  _role,
  _serverHandleIdleTimeout,
  createWebSocketBranded,
  SERVER,
  WebSocket,
} from "ext:deno_websocket/01_websocket.js";
const {
  ArrayPrototypeIncludes,
  ArrayPrototypeMap,
  ArrayPrototypePush,
  Error,
  Promise,
  SafePromiseRace,
  SafeWeakMap,
  SafeWeakSet,
  StringPrototypeCharCodeAt,
  StringPrototypeSplit,
  StringPrototypeToLowerCase,
  StringPrototypeToUpperCase,
  TypeError,
  WeakMapPrototypeGet,
  WeakMapPrototypeSet,
  WeakSetPrototypeAdd,
  WeakSetPrototypeHas,
} = primordials;

let toInnerRequest;
let newInnerResponse;
let fromInnerResponse;
let setEventTargetData;
let Event;

/** Called once by the global-scope bootstrap with the fetch and event internals. */
function init(internals) {
  toInnerRequest = internals.toInnerRequest;
  newInnerResponse = internals.newInnerResponse;
  fromInnerResponse = internals.fromInnerResponse;
  setEventTargetData = internals.setEventTargetData;
  Event = internals.Event;
}

/** The socket each upgrade response carries (Deno keeps it on the response under a symbol). */
const sockets = new SafeWeakMap();
/** Inner requests already upgraded. */
const upgraded = new SafeWeakSet();

/**
 * The socket the running invocation serves, and `fail(error)`, which ends it with an uncaught
 * error. Null while no socket is served. An error thrown by one of the socket's listeners
 * ends the invocation at once (deno_web reports it through `core.reportUnhandledException`)
 * and leaves this set: the next invocation retires it (`retireSession`).
 */
let session = null;

const websocketCvf = buildCaseInsensitiveCommaValueFinder("websocket");
const upgradeCvf = buildCaseInsensitiveCommaValueFinder("upgrade");

/** `Deno.upgradeWebSocket(request, options)`: `{ response, socket }`, as in Deno. */
function upgradeWebSocket(request, options = { __proto__: null }) {
  const inner = toInnerRequest(request);
  if (WeakSetPrototypeHas(upgraded, inner)) {
    // Deno throws its `Deno.errors.Http`, which fluxbase's `Deno` does not have.
    const error = new Error("Already upgraded");
    error.name = "Http";
    throw error;
  }
  const upgrade = request.headers.get("upgrade");
  const upgradeHasWebSocketOption = upgrade !== null && websocketCvf(upgrade);
  if (!upgradeHasWebSocketOption) {
    throw new TypeError(
      "Invalid Header: 'upgrade' header must contain 'websocket'",
    );
  }

  const connection = request.headers.get("connection");
  const connectionHasUpgradeOption = connection !== null &&
    upgradeCvf(connection);
  if (!connectionHasUpgradeOption) {
    throw new TypeError(
      "Invalid Header: 'connection' header must contain 'Upgrade'",
    );
  }

  const websocketKey = request.headers.get("sec-websocket-key");
  if (websocketKey === null) {
    throw new TypeError(
      "Invalid Header: 'sec-websocket-key' header must be set",
    );
  }

  const accept = op_upgrade_accept_key(websocketKey);

  const r = newInnerResponse(101);
  r.headerList = [
    ["upgrade", "websocket"],
    ["connection", "Upgrade"],
    ["sec-websocket-accept", accept],
  ];

  const protocolsStr = request.headers.get("sec-websocket-protocol") || "";
  const protocols = StringPrototypeSplit(protocolsStr, ", ");
  if (protocols && options.protocol) {
    if (ArrayPrototypeIncludes(protocols, options.protocol)) {
      ArrayPrototypePush(r.headerList, [
        "sec-websocket-protocol",
        options.protocol,
      ]);
    } else {
      throw new TypeError(
        `Protocol '${options.protocol}' not in the request's protocol list (non negotiable)`,
      );
    }
  }

  const socket = createWebSocketBranded(WebSocket);
  setEventTargetData(socket);
  socket[_role] = SERVER;
  // Deno's default: below nginx's 60 s (denoland/deno#23985).
  socket[_idleTimeoutDuration] = options.idleTimeout ?? 30;
  socket[_idleTimeoutTimeout] = null;
  WeakSetPrototypeAdd(upgraded, inner);

  const response = fromInnerResponse(r, "response");
  WeakMapPrototypeSet(sockets, response, socket);
  return { response, socket };
}

/** The socket `response` carries when it is the response of `Deno.upgradeWebSocket`. */
function socketOf(response) {
  return WeakMapPrototypeGet(sockets, response);
}

/**
 * Accepts the request's connection for `socket`, calls `respond` (which sends the 101), opens
 * the socket and serves it until it is closed. Rejects with the first error nothing caught
 * while it was served (see `endSession`).
 */
async function serveSocket(socket, respond) {
  const rid = op_upgrade_accept();
  await respond();
  let fail;
  const failed = new Promise((_, reject) => {
    fail = reject;
  });
  let failure = null;
  session = {
    socket,
    fail(error) {
      if (failure !== null) {
        return false;
      }
      failure = { error };
      // As when Deno's process ends: the function hears nothing more from the socket, and
      // the client sees the connection end without a close frame.
      silence(socket);
      op_upgrade_abort();
      fail(error);
      return true;
    },
  };
  socket[_rid] = rid;
  socket[_readyState] = WebSocket.OPEN;
  socket.dispatchEvent(new Event("open"));
  const loop = socket[_eventLoop]();
  if (socket[_idleTimeoutDuration]) {
    // Deno calls the global `clearTimeout`, which function code may have replaced.
    socket.addEventListener("close", () => {
      if (socket[_idleTimeoutTimeout]) {
        core.cancelTimer(socket[_idleTimeoutTimeout]);
      }
    });
  }
  socket[_serverHandleIdleTimeout]();
  try {
    await SafePromiseRace([loop, failed]);
  } catch {
    // The connection is cut: the socket's pending read ends, and its loop with it.
    await loop;
  }
  session = null;
  if (failure !== null) {
    throw failure.error;
  }
}

/**
 * Ends the socket being served with `error`, an error nothing caught (a timer's, a rejection
 * nothing handled). Returns whether a socket took it; if not, it is only logged, as any stray
 * error.
 */
function endSession(error) {
  return session !== null && session.fail(error);
}

/**
 * Called as each invocation starts: the socket of an invocation an uncaught error ended hears
 * nothing more (its idle timer would otherwise fire in a later invocation).
 */
function retireSession() {
  if (session !== null) {
    silence(session.socket);
    session = null;
  }
}

/** Makes `socket` closed and deaf: its idle timer stops and its listeners are dropped. */
function silence(socket) {
  if (socket[_idleTimeoutTimeout]) {
    core.cancelTimer(socket[_idleTimeoutTimeout]);
    socket[_idleTimeoutTimeout] = null;
  }
  socket[_readyState] = WebSocket.CLOSED;
  setEventTargetData(socket);
}

const spaceCharCode = StringPrototypeCharCodeAt(" ", 0);
const tabCharCode = StringPrototypeCharCodeAt("\t", 0);
const commaCharCode = StringPrototypeCharCodeAt(",", 0);

/**
 * Deno's check for a value in a comma-separated header, case-insensitive, without allocating
 * (from ext/http/02_websocket.ts, unchanged).
 * @param checkText {string} - The text to find. (ex. "websocket")
 */
function buildCaseInsensitiveCommaValueFinder(checkText) {
  const charCodes = ArrayPrototypeMap(
    StringPrototypeSplit(
      StringPrototypeToLowerCase(checkText),
      "",
    ),
    (c) => [
      StringPrototypeCharCodeAt(c, 0),
      StringPrototypeCharCodeAt(StringPrototypeToUpperCase(c), 0),
    ],
  );
  /** @type {number} */
  let i;
  /** @type {number} */
  let char;

  /** @param {string} value */
  return function (value) {
    for (i = 0; i < value.length; i++) {
      char = StringPrototypeCharCodeAt(value, i);
      skipWhitespace(value);

      if (hasWord(value)) {
        skipWhitespace(value);
        if (i === value.length || char === commaCharCode) {
          return true;
        }
      } else {
        skipUntilComma(value);
      }
    }

    return false;
  };

  /** @param value {string} */
  function hasWord(value) {
    for (let j = 0; j < charCodes.length; ++j) {
      const { 0: cLower, 1: cUpper } = charCodes[j];
      if (cLower === char || cUpper === char) {
        char = StringPrototypeCharCodeAt(value, ++i);
      } else {
        return false;
      }
    }
    return true;
  }

  /** @param value {string} */
  function skipWhitespace(value) {
    while (char === spaceCharCode || char === tabCharCode) {
      char = StringPrototypeCharCodeAt(value, ++i);
    }
  }

  /** @param value {string} */
  function skipUntilComma(value) {
    while (char !== commaCharCode && i < value.length) {
      char = StringPrototypeCharCodeAt(value, ++i);
    }
  }
}

export {
  endSession,
  init,
  retireSession,
  serveSocket,
  socketOf,
  upgradeWebSocket,
};
