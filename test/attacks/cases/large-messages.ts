// maxMessageSize holds on every runtime: a message up to it arrives (Bun once closed anything over
// its own 16 MiB cap first), one over it closes the socket with 1009.
import { randomBytes, randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import type { TagStats } from "../../fixture/app.ts";
import { eventually, open } from "../../matrix/client.ts";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";

const MiB = 1024 * 1024;

export function defineAttacks(_runtime: Runtime, server: () => FixtureServer): void {
  const stats = async (tag: string) => (await (await fetch(`${server().http}/stats?tag=${tag}`)).json()) as TagStats;

  it("echoes a 20 MiB message on an endpoint whose maxMessageSize is 32 MiB, and closes 33 MiB with 1009", async () => {
    const tag = randomUUID();
    const client = await open(`${server().ws}/ws/big?tag=${tag}`);
    const payload = randomBytes(20 * MiB);
    client.send(payload);
    const [reply] = await client.received(1, 20_000);
    expect(Buffer.isBuffer(reply) && reply.equals(payload)).toBe(true);
    client.send(new Uint8Array(33 * MiB));
    expect((await client.closed).code).toBe(1009);
    await eventually(async () => (await stats(tag)).closes === 1);
    expect((await stats(tag)).closedNotices).toEqual([1009]);
  });
}
