// The echo-chat example, as shipped in examples/RUNTIME/server.ts, on each runtime.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { open } from "../matrix/client.ts";
import { type FixtureServer, type Runtime, startScript } from "../matrix/server.ts";

const runtimes: Runtime[] = ["node", "bun", "deno"];

describe.each(runtimes)("echo chat example on %s", (runtime) => {
  let server: FixtureServer;
  beforeAll(async () => {
    server = await startScript(runtime, `examples/${runtime}/server.ts`, /Echo chat on http:\/\/\S+:(\d+)\//);
  });
  afterAll(() => server?.kill());

  it("serves the chat page at /", async () => {
    const response = await fetch(`${server.http}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const html = await response.text();
    expect(html).toContain("new WebSocket");
    expect(html).toContain('"/ws"');
  });

  it("answers each text message with 'NAME: text'", async () => {
    const client = await open(`${server.ws}/ws?user=Ann`);
    expect(await client.ask("hello")).toBe("Ann: hello");
    expect(await client.ask("héllo ✓")).toBe("Ann: héllo ✓");
    client.socket.close();
  });

  it("calls a user without a name Anonymous and ignores binary messages", async () => {
    const client = await open(`${server.ws}/ws`);
    client.send(new Uint8Array([1, 2, 3]));
    expect(await client.ask("hi")).toBe("Anonymous: hi");
    expect(client.messages).toEqual(["Anonymous: hi"]);
    client.socket.close();
  });

  it("answers a plain GET /ws with 426", async () => {
    const response = await fetch(`${server.http}/ws`);
    expect(response.status).toBe(426);
  });

  it("closes open sockets with 1001 and exits cleanly on SIGTERM", async () => {
    const client = await open(`${server.ws}/ws?user=Bo`);
    expect(await client.ask("bye")).toBe("Bo: bye");
    server.signal("SIGTERM");
    expect((await client.closed).code).toBe(1001);
    expect(await server.exited).toBe(0);
  });
});
