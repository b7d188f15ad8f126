// Copyright fluxbase authors.
// `ext:deno_os/30_os.js` as Node's polyfills see it (node:process, node:os), and the same
// functions of the `Deno` namespace: deno_os's script reads the host's environment and machine,
// which a function must not see. Here `env` is the
// isolate's `Deno.env` (the function's own variables), the exit code is per isolate, ending
// the process is refused, and the machine facts throw NotCapable, as Deno does without
// `--allow-sys`.
(function () {
const { core, primordials } = __bootstrap;
const { Error, NumberIsInteger, RangeError, TypeError } = primordials;

/** Deno's error for a permission the isolate does not have. */
function notCapable(what) {
  return new core.NotCapable(
    `Requires sys access to "${what}", which functions do not have`,
  );
}

let exitCode = 0;

const env = {
  get: (key) => globalThis.Deno.env.get(key),
  toObject: () => globalThis.Deno.env.toObject(),
  set: (key, value) => globalThis.Deno.env.set(key, value),
  has: (key) => globalThis.Deno.env.has(key),
  delete: (key) => globalThis.Deno.env.delete(key),
};

function exit(code) {
  throw new Error(
    `exit(${code ?? ""}) is not available in a function: return a response instead`,
  );
}

function setExitCode(value) {
  if (!NumberIsInteger(value)) {
    throw new TypeError(`Exit code must be an integer, got ${value}`);
  }
  if (value < 0 || value > 255) {
    throw new RangeError(`Exit code must be between 0 and 255, got ${value}`);
  }
  exitCode = value;
}

const sys = (what) => () => {
  throw notCapable(what);
};

return {
  env,
  execPath: sys("execPath"),
  exit,
  getExitCode: () => exitCode,
  gid: sys("gid"),
  hostname: sys("hostname"),
  loadavg: sys("loadavg"),
  networkInterfaces: sys("networkInterfaces"),
  osRelease: sys("osRelease"),
  osUptime: sys("osUptime"),
  setExitCode,
  setExitHandler: () => {},
  systemMemoryInfo: sys("systemMemoryInfo"),
  uid: sys("uid"),
};
})();
