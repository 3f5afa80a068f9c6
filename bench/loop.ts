// The loop's own cost per message, in process, without sockets: what wsloop adds to each frame
// (receive, queue, handler, send, action), for a synchronous and an asynchronous echo handler.
// Usage: npm run bench:loop   (or bun bench/loop.ts, deno run -A bench/loop.ts)
import { upgradeWebSocket } from "../src/index.ts";
import { connect, upgradeRequest } from "../src/testing.ts";
import { ECHO_HANDLERS } from "./lib/echo.ts";

const N = 1_000_000;

for (const [label, onMessage] of ECHO_HANDLERS) {
  const socket = await connect(
    upgradeWebSocket(upgradeRequest(), {
      dependencies: null,
      idleTimeout: 0,
      onInit: (): [null] => [null],
      onMessage,
      onClose: () => {},
    }),
  );
  const frames = socket.frames as unknown[];
  const results: number[] = [];
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    for (let i = 0; i < N; i++) {
      socket.sendText("hello");
      // Settle every 1,024 messages: an async handler's messages queue until then, within maxQueuedBytes.
      if ((i & 1023) === 1023) {
        await socket.settled();
        frames.length = 0;
      }
    }
    await socket.settled();
    results.push(((performance.now() - start) * 1e6) / N);
  }
  results.sort((a, b) => a - b);
  console.log(`${label}: ${Math.round(results[2] as number)} ns per message (median of 5 × ${N.toLocaleString("en-US")})`);
}
