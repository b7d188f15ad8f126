// Copyright fluxbase authors.
// `ext:runtime/98_global_scope_shared.js` as node:console sees it: deno_runtime's table of
// global properties, of which it reads `console`. Ours is the isolate's console (redacted and
// recorded), read when node:console is first imported.
export const windowOrWorkerGlobalScope = {
  console: { __proto__: null, get: () => globalThis.console },
};
