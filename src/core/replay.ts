import type { Selector } from "./selector.ts";
import { compareIds, formatId, parseId, type Range, type StreamEntry, type StreamId, type TopicEvent } from "./stream.ts";
import { isThenable } from "./thenable.ts";

/** Where a hub reads what it missed: a log in memory (at once) or Redis (a promise). */
export interface ReplaySource {
  /** Up to `count` entries after `after`, and the log's last id at that moment. */
  range(after: StreamId, count: number): Range | Promise<Range>;
}

/** One replay subscription: where it is in the topic, and whether it still reads the log. */
interface Cursor {
  deliver(event: TopicEvent): void;
  onError: ((error: unknown) => void) | undefined;
  /** The last id it got (or its starting point); undefined until the hub knows its position. */
  at: StreamId | undefined;
  /** True while it reads the log; live entries are not handed to it then. */
  catching: boolean;
  /** A read of the log is on its way. */
  reading: boolean;
  /** True once `at` is an id the log gave (not a client's `from`, which may be forged or from a lost log). */
  trusted: boolean;
  /** Reads in a row that reached the log's end but not the live position. */
  shortReads: number;
  /** The last thing delivered was a gap notice: one is enough until the next message. */
  gapped: boolean;
  closed: boolean;
}

/** An entry's event, made once and shared by every subscriber it is handed to. */
function eventOf(entry: StreamEntry): TopicEvent {
  entry.event ??= Object.freeze({ type: "message", id: formatId(entry.id), payload: entry.payload });
  return entry.event;
}

const gap = (after: StreamId | string): TopicEvent =>
  Object.freeze({ type: "gap", after: typeof after === "string" ? after : formatId(after) });

/**
 * The replay subscriptions of one topic in one process. Each subscription reads what it missed
 * from the log, then takes the live entries the process reads once for all of them; the switch
 * happens only once it has reached the live position, so it sees one order, without holes or
 * repeats. A subscriber notices a gap by the numbers: consecutive messages' ids differ by one in
 * their second part.
 */
export class ReplayHub {
  readonly #cursors = new Set<Cursor>();
  /** The live position: the last entry handed out, or the log's end when the hub started. */
  position: StreamId | undefined;

  constructor(
    readonly source: ReplaySource,
    /** Entries read per step of a catch-up. */
    readonly batch: number,
    readonly hooks: { first?(): void; last?(): void } = {},
  ) {}

  get size(): number {
    return this.#cursors.size;
  }

  /** A subscription from `from` (an id as text), or live only when absent. Returns the unsubscribe. */
  subscribe(deliver: (event: TopicEvent) => void, onError: ((error: unknown) => void) | undefined, from?: string): () => void {
    const cursor: Cursor = {
      deliver,
      onError,
      at: this.position,
      catching: false,
      reading: false,
      trusted: true,
      shortReads: 0,
      gapped: false,
      closed: false,
    };
    const first = this.#cursors.size === 0;
    this.#cursors.add(cursor);
    if (first) this.hooks.first?.();
    if (from !== undefined) {
      const start = parseId(from);
      if (start) {
        cursor.at = start;
        cursor.catching = true;
        cursor.trusted = false;
        this.#step(cursor);
      } else this.#gap(cursor, from);
    }
    return () => {
      if (cursor.closed) return;
      cursor.closed = true;
      this.#cursors.delete(cursor);
      if (this.#cursors.size === 0) this.hooks.last?.();
    };
  }

  /** The log's end when the hub started reading live: subscribers waiting for it go on. */
  positioned(head: StreamId): void {
    this.position = head;
    for (const cursor of Array.from(this.#cursors)) {
      if (!cursor.catching) cursor.at ??= head;
      else if (!cursor.reading) this.#caughtUpOrStep(cursor);
    }
  }

  /** A live entry, in log order: every live subscriber gets it once. */
  live(entry: StreamEntry): void {
    const before = this.position;
    if (before && compareIds(entry.id, before) <= 0) return;
    this.position = entry.id;
    // A snapshot: one that subscribes while being delivered to reads the entry from the log. One
    // still reading the log takes it only if it stands exactly where the live position stood: then
    // this entry is its next (the log may not keep it until the read comes back).
    for (const cursor of Array.from(this.#cursors)) {
      if (cursor.closed) continue;
      if (!cursor.catching || (before && cursor.at && compareIds(cursor.at, before) === 0)) this.#hand(cursor, entry);
    }
  }

  #hand(cursor: Cursor, entry: StreamEntry): void {
    const at = cursor.at;
    if (at) {
      if (compareIds(entry.id, at) <= 0) return;
      if (entry.id.seq !== at.seq + 1) this.#gap(cursor, at);
    }
    cursor.at = entry.id;
    cursor.trusted = true;
    cursor.gapped = false;
    cursor.deliver(eventOf(entry));
  }

  #gap(cursor: Cursor, after: StreamId | string): void {
    if (cursor.gapped) return;
    cursor.gapped = true;
    cursor.deliver(gap(after));
  }

  #step(cursor: Cursor): void {
    let range: Range | Promise<Range>;
    cursor.reading = true;
    try {
      range = this.source.range(cursor.at as StreamId, this.batch);
    } catch (error) {
      this.#fail(cursor, error);
      return;
    }
    if (isThenable(range))
      range.then(
        (value) => this.#read(cursor, value),
        (error: unknown) => this.#fail(cursor, error),
      );
    else this.#read(cursor, range);
  }

  #read(cursor: Cursor, range: Range): void {
    cursor.reading = false;
    if (cursor.closed) return;
    // An id from before this log's first message is from a log that was lost (numbers restarted):
    // what followed it is gone, and this log's numbers go on from its start.
    const at = cursor.at as StreamId;
    if (range.first.seq > 0 && (at.ms > 0 || at.seq > 0) && compareIds(at, range.first) < 0) {
      this.#gap(cursor, at);
      cursor.at = { ms: range.first.ms, seq: 0 };
      cursor.trusted = true;
    }
    for (const entry of range.entries) {
      this.#hand(cursor, entry);
      if (cursor.closed) return;
    }
    if (range.entries.length >= this.batch) {
      cursor.shortReads = 0;
      this.#step(cursor);
      return;
    }
    // The end of the log as it was: what lies between here and it is gone (trimmed, or the log
    // was lost and this id is from before). A client's id past it cannot be trusted; one the log
    // gave (a live entry taken meanwhile) can.
    const end = cursor.at as StreamId;
    const order = compareIds(end, range.last);
    if (order < 0 || (order > 0 && !cursor.trusted)) {
      this.#gap(cursor, end);
      cursor.at = range.last;
      cursor.trusted = true;
    }
    cursor.shortReads++;
    this.#caughtUpOrStep(cursor);
  }

  /**
   * Live from here once the cursor reached the live position; until then, read on. A read that
   * began before the live reader's may end before its position, so one more read settles it; a
   * second one that still ends before it means the log was lost under the live position (Redis
   * restarted empty): go live, where the next message's number shows the break.
   */
  #caughtUpOrStep(cursor: Cursor): void {
    if (cursor.closed || this.position === undefined) return;
    if (compareIds(cursor.at as StreamId, this.position) >= 0 || cursor.shortReads >= 2) cursor.catching = false;
    else this.#step(cursor);
  }

  #fail(cursor: Cursor, error: unknown): void {
    cursor.reading = false;
    if (!cursor.closed) cursor.onError?.(error);
  }
}

/** A replay selector per (topic, from) while subscribed, so a handler that returns it on every turn keeps its subscription. */
export class ReplaySelectors {
  readonly #selectors = new Map<string, { selector: Selector<TopicEvent>; count: number }>();

  constructor(readonly hub: (topic: string) => ReplayHub) {}

  selector(topic: string, from: string | undefined): Selector<TopicEvent> {
    const key = from === undefined ? `${topic}\u0000` : `${topic}\u0000${from}`;
    const known = this.#selectors.get(key);
    if (known) return known.selector;
    const selector: Selector<TopicEvent> = {
      subscribe: (deliver, onError) => {
        let entry = this.#selectors.get(key);
        if (!entry) {
          entry = { selector, count: 0 };
          this.#selectors.set(key, entry);
        }
        entry.count++;
        const counted = entry;
        let unsubscribe: () => void;
        try {
          unsubscribe = this.hub(topic).subscribe(deliver, onError, from);
        } catch (error) {
          this.#release(key, counted);
          throw error;
        }
        let done = false;
        return () => {
          if (done) return;
          done = true;
          this.#release(key, counted);
          unsubscribe();
        };
      },
    };
    return selector;
  }

  #release(key: string, entry: { count: number }): void {
    if (--entry.count === 0 && this.#selectors.get(key) === entry) this.#selectors.delete(key);
  }
}
