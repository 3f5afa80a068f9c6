// A WebSocket double for wsloop/client's unit tests: the test plays the server (open, receive,
// close) and reads what the client sent. Each test makes its own class, with its own instances.
import type { WebSocketConstructor } from "../../src/client.ts";

export interface FakeSocket {
  readonly url: string;
  readonly protocols?: string | string[] | undefined;
  readyState: number;
  binaryType: string;
  /** What the client sent on this socket, in order. */
  readonly sent: (string | Uint8Array)[];
  /** What the client closed it with, if it did. */
  closedWith: { code: number | undefined; reason: string | undefined } | undefined;
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: (() => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  /** The server accepts: the socket opens. */
  accept(): void;
  /** A frame from the server. */
  receive(data: unknown): void;
  /** The connection ends with `code` (as the close event reports it). */
  end(code: number, reason?: string): void;
  /** The server sent a close frame: CLOSING until end(). */
  closing(): void;
}

export interface FakeSockets {
  readonly WebSocket: WebSocketConstructor;
  readonly all: FakeSocket[];
  /** The newest socket. */
  last(): FakeSocket;
}

export function fakeSockets(): FakeSockets {
  const all: FakeSocket[] = [];
  class Fake implements FakeSocket {
    readyState = 0;
    binaryType = "blob";
    readonly sent: (string | Uint8Array)[] = [];
    closedWith: FakeSocket["closedWith"];
    onopen: FakeSocket["onopen"] = null;
    onmessage: FakeSocket["onmessage"] = null;
    onclose: FakeSocket["onclose"] = null;
    onerror: FakeSocket["onerror"] = null;
    constructor(
      readonly url: string,
      readonly protocols?: string | string[],
    ) {
      all.push(this);
    }
    send(data: string | Uint8Array): void {
      // As browsers: an error while connecting, silently nothing once closing.
      if (this.readyState === 0) throw new Error("InvalidStateError: still connecting");
      if (this.readyState === 1) this.sent.push(data);
    }
    close(code?: number, reason?: string): void {
      this.closedWith = { code, reason };
      if (this.readyState < 2) this.readyState = 2;
    }
    accept(): void {
      this.readyState = 1;
      this.onopen?.();
    }
    receive(data: unknown): void {
      this.onmessage?.({ data });
    }
    end(code: number, reason = ""): void {
      this.readyState = 3;
      this.onerror?.();
      this.onclose?.({ code, reason });
    }
    closing(): void {
      this.readyState = 2;
    }
  }
  return {
    WebSocket: Fake,
    all,
    last: () => {
      const socket = all.at(-1);
      if (!socket) throw new Error("no socket was made");
      return socket;
    },
  };
}
