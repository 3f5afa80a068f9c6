// wsloop/client against a real server on each runtime: the server is killed and restarted on the
// same port while the client sends; and the client on the runtime's own global WebSocket.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { type CloseInfo, connect } from "../../src/client.ts";
import { WebSocket } from "./client.ts";
import { type FixtureServer, type Runtime, startScript } from "./server.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const script = "test/matrix/client-server.ts";
const startOn = (runtime: Runtime, port = 0) => startScript(runtime, script, /READY (\d+)/, { PORT: String(port) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` (every 10 ms, 20 s at most): the waits follow events, not timings. */
async function until(what: string, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/** The command that runs a TypeScript file on `runtime` with its global WebSocket. */
function runOn(runtime: Runtime, file: string): [string, string[]] {
  const bin = (name: string) => `${root}node_modules/.bin/${name}`;
  if (runtime === "bun") return [bin("bun"), ["run", file]];
  if (runtime === "deno") return [bin("deno"), ["run", "-A", file]];
  // Node 22 has a global WebSocket; Node 20 has it behind a flag.
  const flag = Number(process.versions.node.split(".")[0]) < 22 ? ["--experimental-websocket"] : [];
  return [process.execPath, [...flag, "--import", "tsx", file]];
}

export function defineClientCases(runtime: Runtime): void {
  describe(`wsloop/client against ${runtime}`, () => {
    it("reconnects after the server is killed and restarted on the same port: all it queued arrives, in order", async () => {
      let server: FixtureServer = await startOn(runtime);
      const port = Number(new URL(server.http).port);
      const received: number[] = [];
      const closes: CloseInfo[] = [];
      const sent: number[] = [];
      const queued: number[] = [];
      const refused: number[] = [];
      let opens = 0;
      let killedAt = 0;
      // Node 20 has no global WebSocket: the client takes ws's.
      const client = connect(`${server.ws}/ws/echo`, {
        WebSocket,
        dependencies: null,
        backoff: { base: 50, cap: 400 },
        queue: { maxMessages: 25 },
        onInit: () => null,
        onOpen: (state) => {
          opens++;
          return state;
        },
        onMessage: (state, message) => {
          if (message.type === "text") received.push(Number(message.text.slice(1)));
          return state;
        },
        onClose: (state, close) => {
          closes.push(close);
          return state;
        },
      });
      let next = 0;
      let sending = true;
      const sender = (async () => {
        while (sending) {
          const i = next++;
          const result = client.sendText(`m${i}`);
          (result.ok ? (result.value === "sent" ? sent : queued) : refused).push(i);
          await sleep(5);
        }
      })();
      try {
        await until("20 echoes came back", () => received.length >= 20);
        killedAt = next;
        await server.kill();
        await until("the client saw the close and its queue overflowed", () => closes.length >= 1 && refused.length >= 5);
        server = await startOn(runtime, port);
        await until("the client reconnected", () => opens >= 2);
        const afterReconnect = next;
        await until("messages sent after the reconnect came back", () => received.includes(afterReconnect + 20));
        sending = false;
        await sender;
        await until("the last message came back", () => received.includes(next - 1));
      } finally {
        sending = false;
        await sender;
        client.close();
        await server.kill();
      }
      if (process.env.CLIENT_LOG)
        console.log({
          runtime,
          received: received.length,
          sent: sent.length,
          queued: queued.length,
          refused: refused.length,
          lost: [...sent, ...queued].filter((i) => !received.includes(i)),
          closes,
        });
      expect((await client.closed).final).toBe(true);
      // In order, each once.
      expect(received).toEqual([...received].sort((a, b) => a - b));
      expect(new Set(received).size).toBe(received.length);
      // Everything the client queued (within the limit) arrived; past the limit it was refused.
      expect(queued.length).toBeGreaterThanOrEqual(25);
      expect(queued.filter((i) => !received.includes(i))).toEqual([]);
      expect(refused.length).toBeGreaterThanOrEqual(5);
      // The only losses: frames handed to the socket the server died under, before the client saw it die.
      const lost = [...sent, ...queued].filter((i) => !received.includes(i));
      const firstQueuedAfterKill = queued.find((i) => i >= killedAt) ?? 0;
      expect(lost.filter((i) => !sent.includes(i) || i > firstQueuedAfterKill)).toEqual([]);
      expect(closes[0]).toMatchObject({ code: 1006, opened: true, final: false });
    });

    it("runs on the runtime's own global WebSocket", async () => {
      const server = await startOn(runtime);
      try {
        const [command, args] = runOn(runtime, "test/matrix/client-runtime.ts");
        const { stdout } = await promisify(execFile)(command, args, {
          cwd: root,
          env: { ...process.env, NO_COLOR: "1", URL: `${server.ws}/ws/echo` },
          timeout: 30_000,
        });
        expect(stdout).toContain('ECHOED ["one","two","three"] 1000');
      } finally {
        await server.kill();
      }
    });
  });
}
