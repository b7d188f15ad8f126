// Runs one fixture handler under the real Deno, the way fluxbase calls it, and prints the
// response as JSON: {"status", "headers", "body"}. Used by tests/cli/conformance.rs.
//
// deno run --no-config --no-lock --no-prompt --allow-read harness.ts REQUEST_JSON
// REQUEST_JSON: {"file", "method", "url", "headers": [[k, v]], "body"}
const toFileUrl = (path: string) => new URL(`file://${path}`);

const spec = JSON.parse(Deno.args[0]);
const mod = await import(toFileUrl(spec.file).href);
const entry = typeof mod.default === "function"
  ? mod.default
  : typeof mod.default?.fetch === "function"
  ? (req: Request) => mod.default.fetch(req)
  : mod.handler;
const req = new Request(spec.url, {
  method: spec.method,
  headers: spec.headers,
  body: spec.body ?? undefined,
});
const res: Response = await entry(req);
console.log(JSON.stringify({
  status: res.status,
  headers: [...res.headers],
  body: await res.text(),
}));
