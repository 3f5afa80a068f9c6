// Malformed opening handshakes over raw TCP: every runtime gives the same answer (wsloop checks the
// handshake itself, RFC 6455 §4.2.1), and none of them prints a stack trace.
import { connect } from "node:net";
import { expect, it } from "vitest";
import type { FixtureServer, Runtime } from "../../matrix/server.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** An upgrade request for /ws/echo with `lines` as its headers (after the request line). */
const request = (lines: string[], start = "GET /ws/echo HTTP/1.1") => `${[start, ...lines].join("\r\n")}\r\n\r\n`;
const upgrade = ["Upgrade: websocket", "Connection: Upgrade"];

const cases: { name: string; text: string; status: number; version?: string }[] = [
  { name: "a missing Sec-WebSocket-Key", text: request(["Host: a", ...upgrade, "Sec-WebSocket-Version: 13"]), status: 400 },
  {
    name: "a Sec-WebSocket-Key that is not base64 of 16 bytes",
    text: request(["Host: a", ...upgrade, "Sec-WebSocket-Key: abc", "Sec-WebSocket-Version: 13"]),
    status: 400,
  },
  {
    name: "two Sec-WebSocket-Key headers",
    text: request(["Host: a", ...upgrade, `Sec-WebSocket-Key: ${KEY}`, `Sec-WebSocket-Key: ${KEY}`, "Sec-WebSocket-Version: 13"]),
    status: 400,
  },
  { name: "a missing Host", text: request([...upgrade, `Sec-WebSocket-Key: ${KEY}`, "Sec-WebSocket-Version: 13"]), status: 400 },
  {
    name: "a missing Sec-WebSocket-Version",
    text: request(["Host: a", ...upgrade, `Sec-WebSocket-Key: ${KEY}`]),
    status: 426,
    version: "13",
  },
  {
    name: "Sec-WebSocket-Version 8",
    text: request(["Host: a", ...upgrade, `Sec-WebSocket-Key: ${KEY}`, "Sec-WebSocket-Version: 8"]),
    status: 426,
    version: "13",
  },
  {
    name: "a POST",
    text: request(
      ["Host: a", ...upgrade, `Sec-WebSocket-Key: ${KEY}`, "Sec-WebSocket-Version: 13", "Content-Length: 0"],
      "POST /ws/echo HTTP/1.1",
    ),
    status: 400,
  },
  {
    name: "no Connection: Upgrade",
    text: request(["Host: a", "Upgrade: websocket", `Sec-WebSocket-Key: ${KEY}`, "Sec-WebSocket-Version: 13"]),
    status: 426,
  },
  { name: "a plain GET", text: request(["Host: a"]), status: 426 },
];

/** Sends `text` and resolves with the response head (status line and headers), or what came before EOF. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    const done = (value: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(received), 5_000);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      received += chunk;
      const end = received.indexOf("\r\n\r\n");
      if (end >= 0) done(received.slice(0, end));
    });
    socket.on("close", () => done(received));
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.write(text);
  });
}

const statusOf = (head: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
const headerOf = (head: string, name: string) =>
  head
    .split("\r\n")
    .find((line) => line.toLowerCase().startsWith(`${name}:`))
    ?.slice(name.length + 1)
    .trim();

export function defineAttacks(_runtime: Runtime, server: () => FixtureServer): void {
  const port = () => Number(new URL(server().http).port);

  for (const { name, text, status, version } of cases) {
    it(`answers ${status} to ${name}`, async () => {
      const head = await exchange(port(), text);
      expect(statusOf(head), head).toBe(status);
      if (version) expect(headerOf(head, "sec-websocket-version")).toBe(version);
    });
  }

  it("still upgrades a well-formed handshake", async () => {
    const head = await exchange(
      port(),
      request(["Host: a", ...upgrade, `Sec-WebSocket-Key: ${KEY}`, "Sec-WebSocket-Version: 13"]),
    );
    expect(statusOf(head)).toBe(101);
    expect(headerOf(head, "sec-websocket-accept")).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });

  it("prints no stack trace for any of them", async () => {
    for (const { text } of cases) await exchange(port(), text);
    expect(server().output()).not.toMatch(/^\s+at /m);
  });
}
