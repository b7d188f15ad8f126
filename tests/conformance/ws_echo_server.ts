// A WebSocket echo server on 127.0.0.1 (any free port, printed on the first line of stdout),
// for tests/cli/websocket.rs: the real Deno's server side, so that fluxbase's client is checked
// against a server it shares no code path with. Every message comes back as it came; the
// subprotocol offered first is accepted.
//
// deno run --allow-net=127.0.0.1 ws_echo_server.ts
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(port),
}, (req) => {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("websocket only", { status: 426 });
  }
  const offered = req.headers.get("sec-websocket-protocol")?.split(",")[0]?.trim();
  const { socket, response } = Deno.upgradeWebSocket(req, { protocol: offered });
  socket.onmessage = (e) => socket.send(e.data);
  return response;
});
