// The Redis side of the Streams broker: the command connection (scripts, publishes and their
// bounded buffer, replay reads) and the reader (src/redis-stream-reader.ts).
import { Buffer } from "node:buffer";
import { createClient, ErrorReply } from "redis";
import type { Payload } from "./core/broker.ts";
import { type Publish, Publishes } from "./core/publishes.ts";
import { PublishError, type Range, type StreamEntry, type StreamId, ZERO } from "./core/stream.ts";
import { connectWithin, redacted } from "./redis-common.ts";
import { StreamReader } from "./redis-stream-reader.ts";
import { entryOf, idOf, PUBLISH, RANGE, RAW, RETRY_MS, type Reply } from "./redis-stream-wire.ts";

/** What a publish sends: the stream and meta keys, the kind and the payload. */
export interface Outgoing {
  readonly stream: string;
  readonly meta: string;
  readonly payload: Payload;
}

export interface StoreOptions {
  url: string;
  connectTimeout: number;
  publishTimeout: number;
  maxBufferedBytes: number;
  maxLength: number;
  maxAge: number;
  batch: number;
  onError: (error: unknown) => void;
}

export class StreamStore {
  readonly #command;
  readonly #reader: StreamReader;
  readonly #readerClient;
  readonly #publishes: Publishes<Outgoing>;
  #shas = { publish: "", range: "" };
  /** True once the scripts are loaded on the current command connection. */
  #ready = false;
  /** The scripts are being loaded. */
  #loading = false;
  /** A connection became ready while they were: load them once more. */
  #reload = false;
  #closed = false;
  /** Reads waiting for the command connection. */
  #waiting: (() => void)[] = [];

  private constructor(readonly options: StoreOptions) {
    const { url, connectTimeout } = options;
    // No offline queue: a command for an unreachable Redis fails at once; publishes wait in our
    // own bounded buffer instead, and are sent in order once the scripts are loaded again. No
    // command timeout either (node-redis' default is 5 s): a publish has its own (publishTimeout),
    // a replay waits for Redis, and the reader blocks in XREAD on purpose.
    const client = () =>
      createClient({
        url,
        name: "wsloop",
        disableOfflineQueue: true,
        socket: { connectTimeout },
        commandOptions: { timeout: 0 },
      });
    this.#command = client();
    this.#readerClient = client();
    this.#reader = new StreamReader(
      this.#readerClient,
      {
        available: () => this.#available(),
        head: (meta) => this.#command.sendCommand(["HGET", meta, "last"]),
        unblock: (id) => this.#command.sendCommand(["CLIENT", "UNBLOCK", id]),
      },
      options.batch,
      options.onError,
    );
    this.#publishes = new Publishes(options.maxBufferedBytes, options.publishTimeout);
  }

  static async connect(options: StoreOptions): Promise<StreamStore> {
    const store = new StreamStore(options);
    await store.#start();
    return store;
  }

  async #start(): Promise<void> {
    let lastError: unknown;
    const report = (error: unknown) => {
      lastError = error;
      this.options.onError(error);
    };
    // Without a listener, node-redis turns a dropped connection into an uncaught error.
    this.#command.on("error", report);
    this.#readerClient.on("error", report);
    this.#command.on("ready", () => {
      // A new connection: perhaps to a Redis that restarted without the scripts.
      this.#ready = false;
      void this.#commandReady();
    });
    const { url, connectTimeout } = this.options;
    await connectWithin([this.#command, this.#readerClient], connectTimeout, () => {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : "";
      return new Error(`wsloop/redis: could not connect to ${redacted(url)} within ${connectTimeout} ms${cause}`, {
        cause: lastError,
      });
    });
    // The scripts load on the first ready (the listener above); publishes made before would wait.
    if (!this.#ready) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const loaded = new Promise<void>((resolve, reject) => {
        this.#waiting.push(resolve);
        timer = setTimeout(
          () => reject(new Error(`wsloop/redis: could not load the scripts within ${connectTimeout} ms`)),
          connectTimeout,
        );
      });
      try {
        await loaded;
      } catch (error) {
        await this.close();
        throw error;
      } finally {
        clearTimeout(timer);
      }
    }
    await this.#reader.start();
  }

  /** The command connection is (back) up: scripts, then the heads still unknown, then what waited, in order. */
  async #commandReady(): Promise<void> {
    if (this.#loading) {
      // A new connection while the last one's load is on its way: load again after it.
      this.#reload = true;
      return;
    }
    this.#loading = true;
    try {
      do {
        this.#reload = false;
        if (this.#closed || this.#ready || !this.#command.isReady) return;
        try {
          const [publish, range] = await Promise.all([
            this.#command.sendCommand(["SCRIPT", "LOAD", PUBLISH]),
            this.#command.sendCommand(["SCRIPT", "LOAD", RANGE]),
          ]);
          this.#shas = { publish: String(publish), range: String(range) };
        } catch (error) {
          this.options.onError(error);
          // Still connected (Redis answered, e.g. LOADING while it reads its AOF after a restart):
          // try again shortly. Otherwise the connection's next ready does.
          if (!this.#closed && this.#command.isReady) setTimeout(() => void this.#commandReady(), RETRY_MS);
          continue;
        }
        if (this.#closed || !this.#command.isReady) continue;
        this.#ready = true;
        this.#resume();
      } while (this.#reload);
    } finally {
      this.#loading = false;
    }
  }

  /** Ready: the heads still unknown, then the reads and publishes that waited, in order. */
  #resume(): void {
    this.#reader.resume();
    for (const resume of this.#waiting.splice(0)) resume();
    const taken = this.#publishes.take();
    for (let i = 0; i < taken.length; i++) {
      if (!this.#available()) {
        // Down again before all went out: the rest waits, still in order.
        for (const publish of taken.slice(i)) this.#publishes.buffer(publish);
        return;
      }
      this.#transmit(taken[i] as Publish<Outgoing>);
    }
  }

  #available(): boolean {
    if (!this.#command.isReady) this.#ready = false;
    return this.#ready && !this.#closed;
  }

  /** Sends `outgoing`, or buffers it while Redis is unreachable; settles with the outcome. */
  publish(topic: string, outgoing: Outgoing): Promise<void> {
    if (this.#closed) return Promise.reject(new PublishError("closed", topic, "the broker is closed"));
    const size = typeof outgoing.payload === "string" ? Buffer.byteLength(outgoing.payload) : outgoing.payload.byteLength;
    const publish = this.#publishes.start(outgoing, topic, size);
    if (this.#available() && !this.#publishes.waiting) this.#transmit(publish);
    else this.#publishes.buffer(publish);
    return publish.promise;
  }

  #transmit(publish: Publish<Outgoing>): void {
    const { stream, meta, payload } = publish.item;
    const kind = typeof payload === "string" ? "t" : "b";
    const body = typeof payload === "string" ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const { maxLength, maxAge } = this.options;
    this.#command
      .sendCommand(["EVALSHA", this.#shas.publish, "2", stream, meta, kind, body, String(maxLength), String(maxAge)])
      .then(
        () => publish.done(),
        (error: unknown) => publish.fail(this.#publishError(publish.topic, error)),
      );
  }

  #publishError(topic: string, error: unknown): PublishError {
    const message = error instanceof Error ? error.message || error.name : String(error);
    if (error instanceof ErrorReply) {
      // Someone flushed the scripts: load them again; publishes wait meanwhile.
      if (message.startsWith("NOSCRIPT")) {
        this.#ready = false;
        void this.#commandReady();
      }
      return new PublishError("refused", topic, `Redis answered ${message}`, { cause: error });
    }
    return new PublishError("unacknowledged", topic, `the connection to Redis broke before it answered (${message})`, {
      cause: error,
    });
  }

  /** Up to `count` entries after `after` in `stream`; waits for Redis while it is unreachable. */
  async range(stream: string, meta: string, after: StreamId, count: number): Promise<Range> {
    for (;;) {
      // After close nothing will answer: the subscription just never reads.
      if (this.#closed) return new Promise<Range>(() => {});
      if (!this.#available()) await new Promise<void>((resolve) => this.#waiting.push(resolve));
      try {
        const args = [stream, meta, `${after.ms}-${after.seq}`, String(count)];
        const reply = (await this.#command
          .sendCommand(["EVALSHA", this.#shas.range, "2", ...args], RAW)
          .catch((error: unknown) =>
            error instanceof ErrorReply && error.message.startsWith("NOSCRIPT")
              ? this.#command.sendCommand(["EVAL", RANGE, "2", ...args], RAW)
              : Promise.reject(error),
          )) as Reply[];
        return {
          last: idOf(reply[0]) ?? ZERO,
          first: idOf(reply[1]) ?? ZERO,
          entries: ((reply[2] ?? []) as Reply[]).flatMap((raw) => entryOf(raw) ?? []),
        };
      } catch (error) {
        // Redis refused it for good (a key of another type): the subscriber's connection fails.
        if (error instanceof ErrorReply && !/^(LOADING|BUSY|TRYAGAIN)/.test(error.message)) throw error;
        // It will answer soon (LOADING after a restart), or the connection broke: read again.
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  /** Starts reading `stream` live from its current end; `positioned` is told where that is. */
  follow(stream: string, meta: string, sink: (entry: StreamEntry) => void, positioned: (head: StreamId) => void): void {
    this.#reader.follow(stream, meta, sink, positioned);
  }

  unfollow(stream: string): void {
    this.#reader.unfollow(stream);
  }

  /** Where an already followed stream is, if known. */
  position(stream: string): StreamId | undefined {
    return this.#reader.position(stream);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = (publish: Publish<Outgoing>) => new PublishError("closed", publish.topic, "the broker is closed");
    // What waits for Redis will not go out; what was sent gets its answer (close waits for it).
    for (const publish of this.#publishes.take()) publish.fail(closed(publish));
    this.#waiting = [];
    this.#reader.close();
    await this.#command.close().catch(() => {});
    this.#publishes.failAll(closed);
  }
}
