// More connections than the process may open descriptors: the server refuses or delays what it
// cannot take, and keeps serving once they are gone. Deno exits instead (README, runtime differences).
import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";
import { sleep } from "../helpers/raw-socket.ts";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const commands: Record<Runtime, string> = {
  node: `exec "${process.execPath}" --import tsx test/fixture/node.ts`,
  bun: "exec node_modules/.bin/bun run test/fixture/bun.ts",
  deno: "exec node_modules/.bin/deno run -A test/fixture/deno.ts",
};

export function defineAttacks(runtime: Runtime, _server: () => FixtureServer): void {
  // Deno.serve's accept loop rejects with EMFILE (uncaught), and Deno itself panics while no
  // descriptor is left: nothing wsloop's handler can catch.
  it.skipIf(runtime === "deno")("survives 300 sockets at a limit of 256 descriptors", async () => {
    const child = spawn("bash", ["-c", `ulimit -n 256; ${commands[runtime]}`], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    let exited = false;
    child.once("exit", () => (exited = true));
    const sockets: Socket[] = [];
    try {
      while (!/READY (\d+)/.test(output)) {
        if (exited) throw new Error(`fixture exited: ${output}`);
        await sleep(50);
      }
      const port = Number(/READY (\d+)/.exec(output)?.[1]);
      for (let i = 0; i < 300; i++) {
        const socket = connect(port, "127.0.0.1");
        socket.on("error", () => {});
        sockets.push(socket);
        if (i % 50 === 49) await sleep(20);
      }
      await sleep(2000);
      expect(exited).toBe(false);
      for (const socket of sockets) socket.destroy();
      await sleep(1000);
      expect(exited).toBe(false);
      expect((await fetch(`http://127.0.0.1:${port}/stats`)).status).toBe(200);
    } finally {
      for (const socket of sockets) socket.destroy();
      child.kill("SIGKILL");
    }
  });
}
