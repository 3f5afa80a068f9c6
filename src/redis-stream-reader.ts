// The live side of the Streams broker: one connection blocked in XREAD on every stream this
// process follows, handing each entry to its stream's sink in order.
import { ErrorReply } from "redis";
import { parseId, type StreamEntry, type StreamId, ZERO } from "./core/stream.ts";
import { entryOf, RAW, RETRY_MS, type Reply } from "./redis-stream-wire.ts";

/** A stream this process reads live, and where it is. */
interface Followed {
  readonly stream: string;
  readonly meta: string;
  /** The last id read, or the stream's end when following began; undefined until known. */
  position: StreamId | undefined;
  readonly sink: (entry: StreamEntry) => void;
  readonly positioned: (head: StreamId) => void;
}

/** The reader's own connection (a node-redis client), as far as it uses it. */
export interface ReaderClient {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  on(event: "ready", listener: () => void): unknown;
  sendCommand(args: string[], options?: typeof RAW): Promise<unknown>;
  destroy(): void;
}

/** What the reader asks of the command connection. */
export interface ReaderCommands {
  /** True while commands can be sent (connected, scripts loaded). */
  available(): boolean;
  /** The stream's last id (`HGET meta last`), in order with this process's publishes. */
  head(meta: string): Promise<unknown>;
  /** `CLIENT UNBLOCK id`. */
  unblock(id: string): Promise<unknown>;
}

export class StreamReader {
  readonly #followed = new Map<string, Followed>();
  #id: string | undefined;
  #blocked = false;
  /** Wakes the loop when it waits for streams to follow or for its connection. */
  #wakeLoop: (() => void) | undefined;
  #closed = false;

  constructor(
    readonly client: ReaderClient,
    readonly commands: ReaderCommands,
    readonly batch: number,
    readonly onError: (error: unknown) => void,
  ) {
    client.on("ready", () => void this.#ready());
  }

  /** Starts the loop once connected. */
  async start(): Promise<void> {
    await this.#ready();
    void this.#loop();
  }

  /** Starts reading `stream` live from its current end; `positioned` is told where that is. */
  follow(stream: string, meta: string, sink: (entry: StreamEntry) => void, positioned: (head: StreamId) => void): void {
    const followed: Followed = { stream, meta, position: undefined, sink, positioned };
    this.#followed.set(stream, followed);
    if (this.commands.available()) this.#head(followed);
  }

  unfollow(stream: string): void {
    this.#followed.delete(stream);
  }

  /** Where an already followed stream is, if known. */
  position(stream: string): StreamId | undefined {
    return this.#followed.get(stream)?.position;
  }

  /** The command connection is back: asks for the heads still unknown (before any waiting publish goes out). */
  resume(): void {
    for (const followed of this.#followed.values()) if (!followed.position) this.#head(followed);
  }

  close(): void {
    this.#closed = true;
    this.#wakeLoop?.();
    // It may be blocked in XREAD for seconds: drop it rather than wait.
    if (this.client.isOpen) this.client.destroy();
  }

  async #ready(): Promise<void> {
    if (this.#closed || !this.client.isReady) return;
    try {
      this.#id = String(await this.client.sendCommand(["CLIENT", "ID"]));
    } catch {
      return;
    }
    this.#wake();
  }

  /**
   * Asks for the stream's last id. On the command connection, so a publish this process makes
   * after this subscription is ordered after it: the subscription sees it.
   */
  #head(followed: Followed): void {
    this.commands.head(followed.meta).then(
      (last) => {
        if (this.#followed.get(followed.stream) !== followed || followed.position) return;
        followed.position = (typeof last === "string" && parseId(last)) || ZERO;
        followed.positioned(followed.position);
        this.#wake();
      },
      () => {
        // Asked again shortly while connected (Redis may still be loading), else on resume.
        setTimeout(() => {
          if (this.#followed.get(followed.stream) === followed && !followed.position && this.commands.available())
            this.#head(followed);
        }, RETRY_MS);
      },
    );
  }

  /** Makes the loop take the followed streams again (one was added): it may be blocked on the old set. */
  #wake(): void {
    const wake = this.#wakeLoop;
    this.#wakeLoop = undefined;
    wake?.();
    if (this.#blocked) this.#unblock();
  }

  #unblock(): void {
    const id = this.#id;
    if (!id || !this.commands.available()) return;
    this.commands.unblock(id).then(
      (unblocked) => {
        // Sent before the XREAD reached Redis: try again until it returns.
        if (Number(unblocked) === 0 && this.#blocked) setTimeout(() => this.#blocked && this.#unblock(), 5);
      },
      () => {},
    );
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      const streams = [...this.#followed.values()].filter((followed) => followed.position);
      if (streams.length === 0 || !this.client.isReady) {
        await new Promise<void>((resolve) => {
          this.#wakeLoop = resolve;
        });
        continue;
      }
      const positions = streams.map((followed) => `${followed.position?.ms}-${followed.position?.seq}`);
      let reply: Reply;
      this.#blocked = true;
      try {
        const args = ["XREAD", "COUNT", String(this.batch), "BLOCK", "5000", "STREAMS"];
        reply = (await this.client.sendCommand(
          [...args, ...streams.map((followed) => followed.stream), ...positions],
          RAW,
        )) as Reply;
      } catch (error) {
        if (this.#closed) return;
        if (error instanceof ErrorReply) this.onError(error);
        // Wait for the connection (or a moment, for an error Redis answered) before reading again.
        await new Promise<void>((resolve) => {
          this.#wakeLoop = resolve;
          setTimeout(resolve, RETRY_MS);
        });
        continue;
      } finally {
        this.#blocked = false;
      }
      if (Array.isArray(reply)) this.#dispatch(reply);
    }
  }

  /** Hands what XREAD returned to each stream's sink, in order. */
  #dispatch(reply: Reply[]): void {
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const followed = this.#followed.get(String(reply[i]));
      if (!followed?.position) continue;
      for (const raw of reply[i + 1] as Reply[]) {
        const entry = entryOf(raw);
        if (!entry || !followed.position) continue;
        const { ms, seq } = followed.position;
        if (entry.id.ms < ms || (entry.id.ms === ms && entry.id.seq <= seq)) continue;
        followed.position = entry.id;
        followed.sink(entry);
        // A sink may have stopped following (its last subscriber left while being delivered to).
        if (this.#followed.get(followed.stream) !== followed) break;
      }
    }
  }
}
