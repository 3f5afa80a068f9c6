import type { Payload } from "./broker.ts";

/**
 * What a replayable topic delivers: each message with its id, in the one order every subscriber
 * sees, and a gap notice when messages this subscriber should have had are gone (older than the
 * retention, or lost by a restart of the store). After a gap, resync (reload the state the
 * messages build), then go on with the messages that follow.
 *
 * @example
 * ```ts
 * function onMessage(state: State, message: Message<TopicEvent>, connection: Connection) {
 *   if (message.type !== "custom") return continueConnection(state);
 *   const event = message.value;
 *   if (event.type === "gap") sendJson(connection, { type: "resync" });
 *   else sendJson(connection, { id: event.id, text: String(event.payload) });
 *   return continueConnection(state);
 * }
 * ```
 */
export type TopicEvent =
  | { readonly type: "message"; readonly id: string; readonly payload: Payload }
  | {
      readonly type: "gap";
      /** The last id this subscriber had (its `from`, or the last message it got): what follows it is partly gone. */
      readonly after: string;
    };

/**
 * Options of a replayable topic.
 *
 * @example
 * ```ts
 * broker.topic("room:lobby", { from: lastSeenId }); // what followed lastSeenId, then live
 * broker.topic("room:lobby", {});                   // live only, with ids
 * ```
 */
export interface ReplayOptions {
  /**
   * An id this topic delivered: what was published after it is delivered first, then live
   * messages. Absent: live messages only. `"0-0"` asks for everything retained. An id that is
   * malformed, from another store or newer than the topic's last gets a gap notice, then live.
   */
  from?: string;
}

/**
 * How much of each topic a broker keeps for replay: at least `maxLength` messages, and none older
 * than `maxAge` milliseconds once trimmed. Either or both; `{}` keeps nothing.
 *
 * @example
 * ```ts
 * createMemoryBroker({ retention: { maxLength: 1000, maxAge: 60_000 } });
 * ```
 */
export interface Retention {
  /** Messages kept per topic (Redis keeps at least this many: it trims whole blocks). */
  maxLength?: number;
  /** Milliseconds a message is kept (by its id's time); a topic idle this long is dropped whole. */
  maxAge?: number;
}

/**
 * Why a publish was not accepted. `"unacknowledged"` and `"timeout"` mean the store may still
 * have taken it (it was sent, no answer came); the others mean it was not sent.
 *
 * @example
 * ```ts
 * try {
 *   await broker.publish("room:lobby", text);
 * } catch (error) {
 *   if (error instanceof PublishError) sendJson(connection, { type: "not_sent", reason: error.reason });
 *   else throw error;
 * }
 * ```
 */
export class PublishError extends Error {
  /** Made by the brokers: `reason` says why, `topic` where, `message` both in words. */
  constructor(
    /**
     * `buffer_full`: the store is unreachable and `maxBufferedBytes` of publishes already wait;
     * `timeout`: not acknowledged within `publishTimeout`; `unacknowledged`: the connection broke
     * after it was sent; `closed`: the broker is closed; `refused`: the store answered with an error.
     */
    readonly reason: "buffer_full" | "timeout" | "unacknowledged" | "closed" | "refused",
    readonly topic: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`wsloop: could not publish to topic ${JSON.stringify(topic)}: ${message}`, options);
    this.name = "PublishError";
  }
}

/** An id: `MS-SEQ`, milliseconds then the topic's message number (1, 2, 3…): consecutive messages differ by one in SEQ. */
export interface StreamId {
  readonly ms: number;
  readonly seq: number;
}

export const ZERO: StreamId = Object.freeze({ ms: 0, seq: 0 });

/** The id in `text`, or undefined when it is not one. */
export function parseId(text: string): StreamId | undefined {
  const match = /^(\d{1,15})-(\d{1,15})$/.exec(text);
  if (!match) return undefined;
  return { ms: Number(match[1]), seq: Number(match[2]) };
}

export function formatId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** Negative, zero or positive as `a` is before, equal to or after `b`. */
export function compareIds(a: StreamId, b: StreamId): number {
  return a.ms - b.ms || a.seq - b.seq;
}

/** An entry of a topic's log. */
export interface StreamEntry {
  readonly id: StreamId;
  readonly payload: Payload;
  /** Its event, made once when first delivered and shared by every subscriber. */
  event?: TopicEvent;
}

/**
 * What a log holds after a position: up to `count` entries, and the ids of its last message and
 * of its message number 1 (0-0 while it has none). A log that restarted empty counts from 1 again
 * in a later millisecond: an id before its first is from a log that was lost.
 */
export interface Range {
  readonly entries: readonly StreamEntry[];
  readonly last: StreamId;
  readonly first: StreamId;
}

/** Checks retention options; returns them with 0 for "not set". */
export function retentionOf(retention: Retention | undefined, who: string): { maxLength: number; maxAge: number } {
  const check = (name: string, value: number | undefined) => {
    if (value === undefined) return 0;
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${who}: retention.${name} must be a whole number ≥ 0`);
    return value;
  };
  return { maxLength: check("maxLength", retention?.maxLength), maxAge: check("maxAge", retention?.maxAge) };
}
