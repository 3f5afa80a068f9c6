// toCrossws on crossws's own server on each runtime: the app's headers reach the 101 where crossws
// can put them there (Node, Bun) and are refused, never dropped, where it cannot (Deno); the peer's
// address is known on Node only (Bun and Deno tell its port only to the host's upgrade).
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { Client, WebSocket } from "./client.ts";
import { type Runtime, startScript } from "./server.ts";

describe.each(["node", "bun", "deno"] as Runtime[])("toCrossws on crossws/server, %s", (runtime) => {
  it("sends the app's headers on the 101, or refuses the upgrade (Deno)", async () => {
    const server = await startScript(runtime, "test/matrix/crossws-host.ts", /READY (\d+)/);
    try {
      const socket = new WebSocket(`${server.ws}/ws`);
      const client = new Client(socket);
      const outcome = await new Promise<IncomingMessage | string>((resolve) => {
        let response: IncomingMessage | undefined;
        socket.once("upgrade", (res) => {
          response = res;
        });
        socket.once("open", () => resolve(response as IncomingMessage));
        socket.once("unexpected-response", (_request, res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => {
            body += chunk.toString();
          });
          res.on("end", () => resolve(`${res.statusCode} ${body}`));
        });
      });
      if (runtime === "deno") {
        expect(outcome).toMatch(/^500 .*headers cannot reach the 101 response through crossws on Deno/);
        return;
      }
      expect((outcome as IncomingMessage).headers["set-cookie"]).toEqual(["host=crossws; Path=/"]);
      const seen = JSON.parse((await client.ask("address")) as string) as { remote: { address: string; port: number } | null };
      if (runtime === "node")
        expect(seen.remote).toEqual({
          address: "127.0.0.1",
          port: (socket as unknown as { _socket: { localPort: number } })._socket.localPort,
        });
      else expect(seen.remote).toBeNull();
      socket.close();
    } finally {
      await server.kill();
    }
  });
});
