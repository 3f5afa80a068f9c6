// Raw crossws on whichever runtime runs this file: its adapter, its hooks, its pub/sub.
import type { Hooks } from "crossws";
import { counters, diagnostics, subOf } from "./diagnostics.ts";

const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
// Every adapter takes the same hooks; `publish` is bound once the adapter exists.
let publish: (topic: string, data: string) => void = () => {};
const hooks: Partial<Hooks> = {
  // BENCH_READ_HEADERS=1: look at the upgrade request's headers, as any app that routes, checks
  // auth or validates the upgrade does (and wsloop does): a diagnostic for the memory figure.
  ...(process.env.BENCH_READ_HEADERS ? { upgrade: (request: Request) => void request.headers.get("upgrade") } : {}),
  open(peer) {
    counters.opened++;
    if (subOf(peer.request.url) !== null) peer.subscribe("all");
  },
  message(peer, message) {
    const data = message.rawData as string | Uint8Array | ArrayBuffer;
    if (data === "broadcast") publish("all", "news");
    else peer.send(data);
  },
  close() {
    counters.closed++;
  },
};
// Like the raw servers: no idle sweep.
const options = { hooks, idleTimeout: 0 };

if (runtime === "node") {
  const { createServer } = await import("node:http");
  const { default: nodeAdapter } = await import("crossws/adapters/node");
  const ws = nodeAdapter(options);
  publish = (topic, data) => ws.publish(topic, data);
  const server = createServer((req, res) => {
    const answer = diagnostics(req.url ?? "/");
    if (answer) void answer.text().then((text) => res.end(text));
    else res.writeHead(404).end();
  });
  server.on("upgrade", (req, socket, head) => void ws.handleUpgrade(req, socket, head));
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    console.log(`READY ${typeof address === "object" && address ? address.port : 0}`);
  });
} else if (runtime === "bun") {
  const { default: bunAdapter } = await import("crossws/adapters/bun");
  const ws = bunAdapter(options);
  publish = (topic, data) => ws.publish(topic, data);
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (request, server) => diagnostics(request.url) ?? ws.handleUpgrade(request, server),
    websocket: ws.websocket,
  });
  console.log(`READY ${server.port}`);
} else {
  const { default: denoAdapter } = await import("crossws/adapters/deno");
  const ws = denoAdapter(options);
  publish = (topic, data) => ws.publish(topic, data);
  const deno = (globalThis as unknown as { Deno: { serve: (...args: unknown[]) => unknown } }).Deno;
  deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: ({ port }: { port: number }) => console.log(`READY ${port}`) },
    (request: Request, info: unknown) => diagnostics(request.url) ?? ws.handleUpgrade(request, info as never),
  );
}
