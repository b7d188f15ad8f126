// Serves one fixture handler with the real Deno's Deno.serve on 127.0.0.1 (any free port,
// printed on the first line of stdout), so that a test talks to it over the network as it talks
// to `fluxbase serve`: tests/cli/websocket_server.rs compares what a WebSocket client sees from
// both.
//
// deno run --allow-net=127.0.0.1 --allow-read serve_fixture.ts FILE
const mod = await import(new URL(`file://${Deno.args[0]}`).href);
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(port),
}, (req) => mod.default(req));
