// The Redis side of the Streams broker: two connections (commands, and one blocking XREAD for every
// followed stream), the scripts, the publishes' way out, and the reads.
import { Buffer } from "node:buffer";
import { createClient, ErrorReply, RESP_TYPES } from "redis";
import type { Payload } from "./core/broker.ts";
import { type Publish, Publishes } from "./core/publishes.ts";
import { PublishError, parseId, type Range, type StreamEntry, type StreamId, ZERO } from "./core/stream.ts";
import { connectWithin, redacted } from "./redis-common.ts";
import { PUBLISH, RANGE } from "./redis-scripts.ts";

/** Replies with bulk strings as Buffers (payloads may be bytes) and maps as flat arrays. */
const RAW = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.MAP]: Array } } as const;

type Reply = Buffer | null | Reply[];

/** How soon a command Redis refused while connected (LOADING after a restart) is tried again. */
const RETRY_MS = 250;

/** What a publish sends: the stream and meta keys, the kind and the payload. */
export interface Outgoing {
  readonly stream: string;
  readonly meta: string;
  readonly payload: Payload;
}

/** A stream this process reads live, and where it is. */
interface Followed {
  readonly stream: string;
  readonly meta: string;
  /** The last id read, or the stream's end when following began; undefined until known. */
  position: StreamId | undefined;
  readonly sink: (entry: StreamEntry) => void;
  readonly positioned: (head: StreamId) => void;
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
  readonly #reader;
  readonly #publishes: Publishes<Outgoing>;
  readonly #followed = new Map<string, Followed>();
  #shas = { publish: "", range: "" };
  /** True once the scripts are loaded on the current command connection. */
  #ready = false;
  /** The scripts are being loaded. */
  #loading = false;
  /** A connection became ready while they were: load them once more. */
  #reload = false;
  #closed = false;
  #readerId: string | undefined;
  #blocked = false;
  /** Wakes the reader loop when it waits for streams to follow or for its connection. */
  #wakeReader: (() => void) | undefined;
  /** Reads waiting for the command connection. */
  #waiting: (() => void)[] = [];

  private constructor(readonly options: StoreOptions) {
    const { url, connectTimeout } = options;
    // No offline queue: a command for an unreachable Redis fails at once; publishes wait in our
    // own bounded buffer instead, and are sent in order once the scripts are loaded again. No
    // command timeout either (node-redis' default is 5 s): a publish has its own (publishTimeout),
    // a replay waits for Redis, and the reader blocks in XREAD on purpose.
    const client = () =>
      createClient({ url, name: "wsloop", disableOfflineQueue: true, socket: { connectTimeout }, commandOptions: { timeout: 0 } });
    this.#command = client();
    this.#reader = client();
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
    this.#reader.on("error", report);
    this.#command.on("ready", () => {
      // A new connection: perhaps to a Redis that restarted without the scripts.
      this.#ready = false;
      void this.#commandReady();
    });
    this.#reader.on("ready", () => void this.#readerReady());
    const { url, connectTimeout } = this.options;
    await connectWithin([this.#command, this.#reader], connectTimeout, () => {
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
    await this.#readerReady();
    void this.#readLoop();
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
    for (const followed of this.#followed.values()) if (!followed.position) this.#head(followed);
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

  async #readerReady(): Promise<void> {
    if (this.#closed || !this.#reader.isReady) return;
    try {
      this.#readerId = String(await this.#reader.sendCommand(["CLIENT", "ID"]));
    } catch {
      return;
    }
    this.#wake();
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
    const followed: Followed = { stream, meta, position: undefined, sink, positioned };
    this.#followed.set(stream, followed);
    if (this.#available()) this.#head(followed);
  }

  unfollow(stream: string): void {
    this.#followed.delete(stream);
  }

  /** Where an already followed stream is, if known. */
  position(stream: string): StreamId | undefined {
    return this.#followed.get(stream)?.position;
  }

  /**
   * Asks for the stream's last id. On the command connection, so a publish this process makes
   * after this subscription is ordered after it: the subscription sees it.
   */
  #head(followed: Followed): void {
    this.#command.sendCommand(["HGET", followed.meta, "last"]).then(
      (last) => {
        if (this.#followed.get(followed.stream) !== followed || followed.position) return;
        followed.position = (typeof last === "string" && parseId(last)) || ZERO;
        followed.positioned(followed.position);
        this.#wake();
      },
      () => {
        // Asked again shortly while connected (Redis may still be loading), else once it is ready.
        setTimeout(() => {
          if (this.#followed.get(followed.stream) === followed && !followed.position && this.#available()) this.#head(followed);
        }, RETRY_MS);
      },
    );
  }

  /** Makes the reader take the followed streams again (one was added): it may be blocked on the old set. */
  #wake(): void {
    const wake = this.#wakeReader;
    this.#wakeReader = undefined;
    wake?.();
    if (this.#blocked) this.#unblock();
  }

  #unblock(): void {
    const id = this.#readerId;
    if (!id || !this.#available()) return;
    this.#command.sendCommand(["CLIENT", "UNBLOCK", id]).then(
      (unblocked) => {
        // Sent before the reader's XREAD reached Redis: try again until it returns.
        if (Number(unblocked) === 0 && this.#blocked) setTimeout(() => this.#blocked && this.#unblock(), 5);
      },
      () => {},
    );
  }

  async #readLoop(): Promise<void> {
    while (!this.#closed) {
      const streams = [...this.#followed.values()].filter((followed) => followed.position);
      if (streams.length === 0 || !this.#reader.isReady) {
        await new Promise<void>((resolve) => {
          this.#wakeReader = resolve;
        });
        continue;
      }
      const positions = streams.map((followed) => `${followed.position?.ms}-${followed.position?.seq}`);
      let reply: Reply;
      this.#blocked = true;
      try {
        const args = ["XREAD", "COUNT", String(this.options.batch), "BLOCK", "5000", "STREAMS"];
        reply = (await this.#reader.sendCommand(
          [...args, ...streams.map((followed) => followed.stream), ...positions],
          RAW,
        )) as Reply;
      } catch (error) {
        if (this.#closed) return;
        if (error instanceof ErrorReply) this.options.onError(error);
        // Wait for the connection (or a moment, for an error Redis answered) before reading again.
        await new Promise<void>((resolve) => {
          this.#wakeReader = resolve;
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

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = (publish: Publish<Outgoing>) => new PublishError("closed", publish.topic, "the broker is closed");
    // What waits for Redis will not go out; what was sent gets its answer (close waits for it).
    for (const publish of this.#publishes.take()) publish.fail(closed(publish));
    this.#waiting = [];
    this.#wakeReader?.();
    // The reader may be blocked in XREAD for seconds: drop it rather than wait.
    if (this.#reader.isOpen) this.#reader.destroy();
    await this.#command.close().catch(() => {});
    this.#publishes.failAll(closed);
  }
}

function idOf(raw: Reply | undefined): StreamId | undefined {
  return raw instanceof Buffer ? parseId(raw.toString("latin1")) : undefined;
}

/** `[id, [field, value, …]]` as a stream entry, its payload text or bytes by its `k` field. */
function entryOf(raw: Reply): StreamEntry | undefined {
  if (!Array.isArray(raw)) return undefined;
  const id = idOf(raw[0]);
  const fields = raw[1];
  if (!id || !Array.isArray(fields)) return undefined;
  let kind = "t";
  let payload: Buffer | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = String(fields[i]);
    if (name === "k") kind = String(fields[i + 1]);
    else if (name === "p") payload = fields[i + 1] as Buffer;
  }
  if (!(payload instanceof Buffer)) return undefined;
  return {
    id,
    payload: kind === "b" ? new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength) : payload.toString("utf8"),
  };
}
