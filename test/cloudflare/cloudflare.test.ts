// wsloop/cloudflare on workerd (miniflare): loops that survive a Durable Object's hibernation,
// and loops served by a plain Worker.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkerd, type Workerd } from "../../examples/cloudflare/workerd.ts";
import { eventually, open } from "../matrix/client.ts";

let workerd: Workerd;
beforeAll(async () => {
  workerd = await startWorkerd("test/cloudflare/worker.ts", { LOOPS: "Loops" });
});
afterAll(() => workerd?.dispose());

const get = async <T>(path: string): Promise<T> => (await fetch(`${workerd.http}${path}`)).json() as Promise<T>;

interface Record {
  inits: number;
  closes: number;
  closeStates: number[];
  closedNotices: number[];
}

/** workerd evicts a Durable Object after 10 s without events; its hibernatable sockets stay open. */
const EVICTION_MS = 10_000;

describe("a Durable Object's loops through hibernation", () => {
  it("keep their state, rebuild their selector, answer pings without onMessage, and run onClose once", async () => {
    const tags = { a: randomUUID(), b: randomUUID(), c: randomUUID(), big: randomUUID() };
    const url = (tag: string) => `${workerd.ws}/do/hibernating?tag=${tag}`;
    const stats = (tag: string) => get<Record>(`/do/stats?tag=${tag}`);
    const a = await open(url(tags.a), undefined, { headers: { "x-user": "ann" } });
    const b = await open(url(tags.b));
    const c = await open(url(tags.c));
    expect(await a.ask("one")).toBe("one");
    expect(await a.ask("two")).toBe("two");
    expect(await b.ask("one")).toBe("one");
    const before = await get<number>("/do/constructed");
    expect(await a.ask("state")).toBe(`state:2:instance:${before}:user:ann`);

    // A state too large for the socket's attachment fails its handler: 1011, onClose with the last state that fit.
    const big = await open(url(tags.big));
    expect(await big.ask("fits")).toBe("fits");
    big.send("grow:20000");
    expect((await big.closed).code).toBe(1011);
    await eventually(async () => (await stats(tags.big))?.closes === 1);
    expect(await stats(tags.big)).toEqual({ inits: 1, closes: 1, closeStates: [1], closedNotices: [] });

    // Nothing happens on the object now: workerd evicts it, its sockets stay open.
    await new Promise((resolve) => setTimeout(resolve, EVICTION_MS + 3000));

    // Answered by the runtime: onMessage never sees it (the count below stays 2).
    expect(await a.ask("ping")).toBe("pong");
    // A close while the object sleeps wakes it: the loop is restored, hears the close, ends once.
    b.socket.close(1000, "bye");
    await eventually(async () => (await stats(tags.b)).closes === 1);
    // The selector of a woken loop is rebuilt (by the hook) before the object takes the next event.
    await fetch(`${workerd.http}/do/publish?text=woken`);
    expect(await c.received(1)).toEqual(["custom:woken"]);
    // The state, and the header the codec kept, came back; onInit did not run again; a new instance.
    const after = await get<number>("/do/constructed");
    expect(after).toBeGreaterThan(before);
    expect(await a.ask("state")).toBe(`state:2:instance:${after}:user:ann`);
    expect(await a.ask("three")).toBe("three");
    a.socket.close(1000);
    c.socket.close(4000);
    await eventually(async () => (await stats(tags.a)).closes === 1 && (await stats(tags.c)).closes === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await stats(tags.a)).toEqual({ inits: 1, closes: 1, closeStates: [3], closedNotices: [1000] });
    expect(await stats(tags.b)).toEqual({ inits: 1, closes: 1, closeStates: [1], closedNotices: [1000] });
    expect(await stats(tags.c)).toEqual({ inits: 1, closes: 1, closeStates: [0], closedNotices: [4000] });
  }, 60_000);

  it("an endpoint without hibernate() works as on other runtimes (the object stays in memory while it is open)", async () => {
    const tag = randomUUID();
    const client = await open(`${workerd.ws}/do/awake?tag=${tag}`);
    expect(await client.ask("hi")).toBe("hi");
    await fetch(`${workerd.http}/do/publish?text=news`);
    expect(await client.received(2)).toEqual(["hi", "custom:news"]);
    client.socket.close(1000);
    await eventually(async () => (await get<Record>(`/do/stats?tag=${tag}`))?.closes === 1);
    expect(await get<Record>(`/do/stats?tag=${tag}`)).toEqual({ inits: 1, closes: 1, closeStates: [1], closedNotices: [1000] });
  });
});

describe("a Worker's loops", () => {
  const stats = (tag: string) => get<{ closes: number; closedNotices: number[] } | null>(`/worker/stats?tag=${tag}`);

  it("echo, close with stopConnection's code, and run onClose once", async () => {
    const tag = randomUUID();
    const client = await open(`${workerd.ws}/worker/echo?tag=${tag}`);
    expect(await client.ask("héllo 🚀")).toBe("héllo 🚀");
    client.send("stop:4001");
    expect((await client.closed).code).toBe(4001);
    await eventually(async () => (await stats(tag))?.closes === 1);
    expect(await stats(tag)).toEqual({ closes: 1, closedNotices: [] });
  });

  it("close with 1009 over maxMessageSize, and hear a client's close", async () => {
    const [big, leaving] = [randomUUID(), randomUUID()];
    const client = await open(`${workerd.ws}/worker/echo?tag=${big}`);
    client.send("x".repeat(2000));
    expect((await client.closed).code).toBe(1009);
    const other = await open(`${workerd.ws}/worker/echo?tag=${leaving}`);
    other.socket.close(1000);
    await eventually(async () => (await stats(big))?.closes === 1 && (await stats(leaving))?.closes === 1);
    expect(await stats(big)).toEqual({ closes: 1, closedNotices: [1009] });
    expect(await stats(leaving)).toEqual({ closes: 1, closedNotices: [1000] });
  });

  it("hand a text frame that is not UTF-8 to the loop with U+FFFD for the bad bytes (workerd does not close with 1007)", async () => {
    const client = await open(`${workerd.ws}/worker/echo?tag=${randomUUID()}`);
    // ws sends a Buffer as a text frame as it is, without checking it.
    client.socket.send(Buffer.from([0x68, 0xff, 0xfe, 0x69]), { binary: false });
    expect(await client.received(1)).toEqual(["h\uFFFD\uFFFDi"]);
    expect(client.closedWith).toBeUndefined();
    client.socket.close();
  });
});
