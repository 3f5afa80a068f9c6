import type { Payload } from "./broker.ts";
import { unref } from "./keepalive.ts";
import { ReplayHub, ReplaySelectors } from "./replay.ts";
import { compareIds, type Range, type StreamEntry, type StreamId, ZERO } from "./stream.ts";

/** One topic's messages kept for replay, oldest first, and the id of its last message. */
export class MemoryLog {
  #entries: StreamEntry[] = [];
  #head = 0;
  last: StreamId = ZERO;
  /** The id of message number 1 of this log. */
  first: StreamId = ZERO;

  constructor(readonly retention: { readonly maxLength: number; readonly maxAge: number }) {}

  /** Gives `payload` the next id and keeps it as long as the retention says. */
  append(payload: Payload, now: number): StreamEntry {
    const id = { ms: Math.max(now, this.last.ms), seq: this.last.seq + 1 };
    const entry: StreamEntry = { id, payload };
    this.last = id;
    if (id.seq === 1) this.first = id;
    if (this.retention.maxLength > 0 || this.retention.maxAge > 0) {
      this.#entries.push(entry);
      this.trim(now);
    }
    return entry;
  }

  /** Drops what the retention no longer covers. */
  trim(now: number): void {
    const { maxLength, maxAge } = this.retention;
    const entries = this.#entries;
    let head = this.#head;
    if (maxLength > 0 && entries.length - head > maxLength) head = entries.length - maxLength;
    if (maxAge > 0) while (head < entries.length && (entries[head] as StreamEntry).id.ms < now - maxAge) head++;
    if (maxLength === 0 && maxAge === 0) head = entries.length;
    this.#head = head;
    if (head === entries.length) {
      this.#entries = [];
      this.#head = 0;
    } else if (head > 1024 && head * 2 > entries.length) {
      this.#entries = entries.slice(head);
      this.#head = 0;
    }
  }

  get size(): number {
    return this.#entries.length - this.#head;
  }

  /** Up to `count` entries after `after`, and the last id. */
  range(after: StreamId, count: number, now: number): Range {
    this.trim(now);
    const entries = this.#entries;
    // The first entry after `after`: ids only grow, so a binary search finds it.
    let low = this.#head;
    let high = entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareIds((entries[middle] as StreamEntry).id, after) <= 0) low = middle + 1;
      else high = middle;
    }
    return { entries: entries.slice(low, Math.min(entries.length, low + count)), last: this.last, first: this.first };
  }

  /**
   * The store restarted without its data: nothing is kept, and the next id starts a new count in a
   * later millisecond, so it sorts after every id given before and its number shows the break.
   */
  reset(): void {
    this.#entries = [];
    this.#head = 0;
    if (this.last !== ZERO) this.last = { ms: this.last.ms + 1, seq: 0 };
    this.first = ZERO;
  }
}

/**
 * The replayable side of the memory broker: a log per topic that keeps messages or has replay
 * subscribers, and their hubs. A topic with neither costs nothing.
 */
export class MemoryStreams {
  readonly #logs = new Map<string, MemoryLog>();
  readonly #hubs = new Map<string, ReplayHub>();
  readonly #keeps: boolean;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  /** Replays waiting for a simulated partition to heal. */
  #waiting: (() => void)[] = [];
  /** True during a simulated partition (wsloop/testing): replays wait, as they would for Redis. */
  partitioned = false;
  readonly selectors = new ReplaySelectors((topic) => this.#hub(topic));

  constructor(
    readonly retention: { readonly maxLength: number; readonly maxAge: number },
    readonly now: () => number = Date.now,
  ) {
    this.#keeps = retention.maxLength > 0 || retention.maxAge > 0;
  }

  /** Appends a published payload to its topic's log (when anything needs it) and hands it to the topic's replay subscribers. */
  record(topic: string, payload: Payload): void {
    let log = this.#logs.get(topic);
    if (!log) {
      if (!this.#keeps) return;
      log = this.#log(topic);
    }
    const entry = log.append(payload, this.now());
    this.#hubs.get(topic)?.live(entry);
  }

  /** How many replay subscriptions `topic` has. */
  subscribers(topic: string): number {
    return this.#hubs.get(topic)?.size ?? 0;
  }

  /** How many messages `topic` keeps. */
  retained(topic: string): number {
    return this.#logs.get(topic)?.size ?? 0;
  }

  /** The store restarted: without `keepData`, every topic's messages are gone and each count starts again. */
  restart(keepData: boolean): void {
    if (keepData) return;
    for (const [topic, log] of this.#logs) {
      log.reset();
      if (!this.#hubs.has(topic)) this.#logs.delete(topic);
    }
  }

  partition(): void {
    this.partitioned = true;
  }

  heal(): void {
    this.partitioned = false;
    for (const resume of this.#waiting.splice(0)) resume();
  }

  close(): void {
    clearInterval(this.#sweeper);
  }

  #log(topic: string): MemoryLog {
    let log = this.#logs.get(topic);
    if (!log) {
      log = new MemoryLog(this.retention);
      this.#logs.set(topic, log);
      if (this.retention.maxAge > 0 && this.#sweeper === undefined) {
        // Topics nobody publishes to any more still let go of their messages once they are old.
        this.#sweeper = setInterval(() => this.#sweep(), Math.max(1000, this.retention.maxAge));
        unref(this.#sweeper);
      }
    }
    return log;
  }

  #sweep(): void {
    const now = this.now();
    for (const [topic, log] of this.#logs) {
      log.trim(now);
      if (log.size === 0 && !this.#hubs.has(topic)) this.#logs.delete(topic);
    }
  }

  #hub(topic: string): ReplayHub {
    let hub = this.#hubs.get(topic);
    if (hub) return hub;
    const read = (after: StreamId, count: number) => this.#log(topic).range(after, count, this.now());
    const source = {
      range: (after: StreamId, count: number): Range | Promise<Range> =>
        this.partitioned ? new Promise((resolve) => this.#waiting.push(() => resolve(read(after, count)))) : read(after, count),
    };
    hub = new ReplayHub(source, Number.MAX_SAFE_INTEGER, {
      last: () => {
        if (this.#hubs.get(topic) !== hub) return;
        this.#hubs.delete(topic);
        const log = this.#logs.get(topic);
        if (log && log.size === 0) this.#logs.delete(topic);
      },
    });
    this.#hubs.set(topic, hub);
    hub.positioned(this.#log(topic).last);
    return hub;
  }
}
