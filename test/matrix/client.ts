// A real WebSocket client (the `ws` package) with the waits the matrix needs.
import WebSocket, { type ClientOptions } from "ws";

export { WebSocket };

export interface Closed {
  code: number;
  reason: string;
}

/** Opens a socket; rejects with the HTTP status if the server refused the upgrade. */
export function open(url: string, protocols?: string[], options?: ClientOptions): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, options);
    const client = new Client(socket);
    socket.once("open", () => resolve(client));
    socket.once("unexpected-response", (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    socket.once("error", reject);
  });
}

export class Client {
  readonly messages: (string | Buffer)[] = [];
  readonly closed: Promise<Closed>;
  /** How the socket closed, once it has. */
  closedWith: Closed | undefined;
  #waiters: (() => void)[] = [];

  constructor(readonly socket: WebSocket) {
    socket.on("message", (data: Buffer, isBinary: boolean) => {
      this.messages.push(isBinary ? data : data.toString("utf8"));
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      socket.once("close", (code: number, reason: Buffer) => {
        this.closedWith = { code, reason: reason.toString() };
        resolve(this.closedWith);
        for (const wake of this.#waiters.splice(0)) wake();
      });
    });
    socket.on("error", () => {
      // A refused or reset socket also emits close, which the tests assert on.
    });
  }

  send(data: string | Uint8Array): void {
    this.socket.send(data);
  }

  /** Waits until `count` messages have arrived in total, and returns them. */
  async received(count: number, timeoutMs = 10_000): Promise<(string | Buffer)[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (this.socket.readyState === WebSocket.CLOSED)
        throw new Error(`socket closed (${JSON.stringify(this.closedWith)}) after ${this.messages.length} of ${count} messages`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out after ${this.messages.length} of ${count} messages: ${JSON.stringify(this.messages.slice(-3))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.messages.slice(0, count);
  }

  /** Sends `text` and returns the next message that arrives. */
  async ask(text: string): Promise<string | Buffer> {
    const index = this.messages.length;
    this.send(text);
    return (await this.received(index + 1))[index] as string | Buffer;
  }
}

/** Polls `probe` until it returns true (bounded), for counters updated after the client saw the close. */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
