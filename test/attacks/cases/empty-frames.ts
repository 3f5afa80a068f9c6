// Empty text and binary frames are ordinary messages: echoed every time, and they leave the
// connection fully working (Bun's send answers 0 bytes for them, which once read as "closed").
import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import type { TagStats } from "../../fixture/app.ts";
import { eventually, open } from "../../matrix/client.ts";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";
import { within } from "../helpers/raw-socket.ts";

export function defineAttacks(_runtime: Runtime, server: () => FixtureServer): void {
  it("echoes empty text and binary frames repeatedly, then still closes with stopConnection's code", async () => {
    const tag = randomUUID();
    const client = await open(`${server().ws}/ws/echo?tag=${tag}`);
    for (let round = 0; round < 5; round++) {
      expect(await client.ask("")).toBe("");
      const index = client.messages.length;
      client.send(new Uint8Array(0));
      const [reply] = (await client.received(index + 1)).slice(index);
      expect(Buffer.isBuffer(reply) && reply.byteLength).toBe(0);
      expect(await client.ask(`after ${round}`)).toBe(`after ${round}`);
    }
    client.send("");
    client.send("stop:4001:after empty");
    expect(await client.closed).toEqual({ code: 4001, reason: "after empty" });
    await eventually(async () => ((await (await fetch(`${server().http}/stats?tag=${tag}`)).json()) as TagStats).closes === 1);
  });

  it("sends the close frame of stopConnection right after an empty frame", async () => {
    const client = await open(`${server().ws}/ws/echo`);
    expect(await client.ask("")).toBe("");
    client.send("stop:4002:bye");
    expect(await within(client.closed, 5000)).toBe(true);
    expect(client.closedWith).toEqual({ code: 4002, reason: "bye" });
  });
}
