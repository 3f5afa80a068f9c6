// A compressed message that inflates far past the endpoint's limit (a zip bomb): 256 KiB on the
// wire, 256 MiB once inflated. With compression on, the server must close it with 1009 without
// inflating it whole: Node (ws) stops inflating at maxMessageSize; Bun at its server-wide
// maxPayloadLength (64 MiB in the fixture), and wsloop then closes with 1009 at maxMessageSize.
// Deno offers no compression (its serve refuses the option: test/matrix/compression.ts).
import { once } from "node:events";
import { constants, createDeflateRaw } from "node:zlib";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type FixtureServer, type Runtime, startScript } from "../../matrix/server.ts";
import { bigFrame, rawSocket, rss, send } from "../wire.ts";

const CLIENTS = 5;
const INFLATED = 256 * 1024 * 1024;

/** permessage-deflate's payload for `size` zero bytes: raw deflate, sync-flushed, without its 00 00 FF FF tail. */
async function bomb(size: number): Promise<Buffer> {
  const deflate = createDeflateRaw({ level: 9 });
  const parts: Buffer[] = [];
  deflate.on("data", (chunk: Buffer) => parts.push(chunk));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < size; written += zeros.length) {
    if (!deflate.write(zeros)) await once(deflate, "drain");
  }
  await new Promise<void>((resolve) => deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
  const payload = Buffer.concat(parts);
  return payload.subarray(0, payload.length - 4);
}

/** Upgrades offering permessage-deflate; rejects unless the server accepted it. */
function deflateSocket(url: string): ReturnType<typeof rawSocket> {
  return rawSocket(url, {
    headers: ["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"],
    accepted: (head) => /^sec-websocket-extensions: permessage-deflate/im.test(head),
  });
}

export function defineAttacks(runtime: Runtime, plain: () => FixtureServer): void {
  // Compression is off by default: a server that did not negotiate it must not inflate anything.
  it("fails the connection on a compressed frame when compression is off, inflating nothing", async () => {
    const { socket, closeCode } = await rawSocket(`${plain().ws}/ws/echo`);
    const frame = bigFrame(0x2, await bomb(INFLATED / 16));
    frame[0] = (frame[0] as number) | 0x40;
    await send(socket, frame, Date.now() + 10_000);
    const code = await Promise.race([closeCode, new Promise<"open">((resolve) => setTimeout(() => resolve("open"), 10_000))]);
    socket.destroy();
    // 1002 (protocol error) on Node and Bun; Deno drops the connection without a close frame.
    expect(code).toBe(runtime === "deno" ? null : 1002);
  });

  if (runtime === "deno") return;
  let server: FixtureServer;
  let frame: Uint8Array;
  beforeAll(async () => {
    server = await startScript(runtime, `test/fixture/${runtime}.ts`, /READY (\d+)/, { WSLOOP_COMPRESSION: "1" });
    frame = bigFrame(0x2, await bomb(INFLATED));
    // RSV1: the message is compressed.
    frame[0] = (frame[0] as number) | 0x40;
  });
  afterAll(async () => {
    await server?.kill();
  });

  it(`closes ${CLIENTS} clients each sending a message that inflates to 256 MiB past a 1 KiB limit with 1009, memory bounded`, async () => {
    expect(frame.byteLength).toBeLessThan(INFLATED / 500);
    const before = await rss(server.http);
    const codes = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const { socket, closeCode } = await deflateSocket(`${server.ws}/ws/limited?tag=bomb`);
        await send(socket, frame, Date.now() + 10_000);
        const code = await Promise.race([closeCode, new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000))]);
        socket.destroy();
        return code;
      }),
    );
    const growth = (await rss(server.http)) - before;
    for (const code of codes) expect(code).toBe(1009);
    // Inflated whole, 5 × 256 MiB. Node stops at 1 KiB each; Bun inflates up to maxPayloadLength
    // (64 MiB here) before closing: see README's runtime differences.
    expect(growth).toBeLessThan((runtime === "node" ? 32 : 200) * 1024 * 1024);
  });

  it("still echoes a compressed message within the limit afterwards", async () => {
    const { socket } = await deflateSocket(`${server.ws}/ws/echo`);
    const payload = await bomb(64 * 1024);
    const small = bigFrame(0x2, payload);
    small[0] = (small[0] as number) | 0x40;
    const echoed = new Promise<Buffer>((resolve) => socket.once("data", resolve));
    await send(socket, small);
    const reply = await echoed;
    // A binary frame back (compressed or not): the server read the message and answered.
    expect((reply[0] as number) & 0x0f).toBe(0x2);
    socket.destroy();
  });
}
