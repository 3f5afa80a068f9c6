import type { Message, Notice, RateLimited } from "./message.ts";
import { utf8Length } from "./size.ts";

/**
 * A per-connection rate limit on the client's frames (text and binary; not pings), as a token
 * bucket: on average `messagesPerSecond` and/or `bytesPerSecond`, with bursts up to
 * `messageBurst` / `byteBurst` at once. While reading is paused (flow control) the client's frames
 * wait in TCP and arrive together after: the pause's length refills the bucket past its burst, so
 * a client within its rate is not closed for the server's pause.
 *
 * @example
 * ```ts
 * const rateLimit: RateLimit = { messagesPerSecond: 20, messageBurst: 50, bytesPerSecond: 64 * 1024 };
 * ```
 */
export interface RateLimit<Notices extends Notice = never> {
  /** Frames per second on average (default: not limited). */
  messagesPerSecond?: number;
  /** Frames accepted at once after a quiet spell (default: messagesPerSecond, one second's worth). */
  messageBurst?: number;
  /**
   * UTF-8 or binary bytes per second on average (default: not limited). A frame is accepted while
   * the byte bucket is not empty and then takes its whole size, so one large frame may leave the
   * bucket in debt for a while.
   */
  bytesPerSecond?: number;
  /** Bytes accepted at once after a quiet spell (default: bytesPerSecond). */
  byteBurst?: number;
  /**
   * What a frame over the limit does: `"close"` (default) closes the socket with 1008;
   * `"message"` hands it to `onMessage` as `{ type: "rate_limited", message }` instead, in its
   * place in the order, for the handler to decide. `"message"` needs a handler that takes
   * `Message<Custom, RateLimited>`.
   */
  exceeded?: [RateLimited] extends [Notices] ? "close" | "message" : "close";
}

/**
 * A RateLimit validated, with its defaults filled in; shared by the connections of an endpoint.
 * What is not limited has rate 0 and an infinite burst: its tokens stay infinite without a branch.
 */
export interface RateRule {
  readonly messagesPerSecond: number;
  readonly messageBurst: number;
  readonly bytesPerSecond: number;
  readonly byteBurst: number;
  /** True for exceeded: "message". */
  readonly deliver: boolean;
}

// Per rateLimit object, like allowedOrigins: the connections of an endpoint share one rule, and so one Limits.
const rules = new WeakMap<object, RateRule>();

/** Validates `limit` (a RangeError names what is wrong); undefined when there is none. */
export function rateRuleOf(limit: RateLimit<Notice> | undefined): RateRule | undefined {
  if (limit === undefined) return undefined;
  let rule = rules.get(limit);
  if (!rule) {
    rule = validate(limit);
    rules.set(limit, rule);
  }
  return rule;
}

function validate(limit: RateLimit<Notice>): RateRule {
  const messagesPerSecond = rate("messagesPerSecond", limit.messagesPerSecond);
  const bytesPerSecond = rate("bytesPerSecond", limit.bytesPerSecond);
  if (messagesPerSecond === 0 && bytesPerSecond === 0)
    throw new RangeError("upgradeWebSocket: rateLimit needs messagesPerSecond or bytesPerSecond");
  const messageBurst = burst("messageBurst", limit.messageBurst, messagesPerSecond);
  const byteBurst = burst("byteBurst", limit.byteBurst, bytesPerSecond);
  const exceeded = limit.exceeded ?? "close";
  if (exceeded !== "close" && exceeded !== "message")
    throw new RangeError('upgradeWebSocket: rateLimit.exceeded must be "close" or "message"');
  return { messagesPerSecond, messageBurst, bytesPerSecond, byteBurst, deliver: exceeded === "message" };
}

function rate(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (!(value > 0 && Number.isFinite(value)))
    throw new RangeError(`upgradeWebSocket: rateLimit.${name} must be a positive number`);
  return value;
}

function burst(name: string, value: number | undefined, perSecond: number): number {
  if (perSecond === 0) return Infinity;
  if (value === undefined) return Math.max(perSecond, 1);
  if (!(value >= 1 && Number.isFinite(value))) throw new RangeError(`upgradeWebSocket: rateLimit.${name} must be at least 1`);
  return value;
}

/**
 * One connection's tokens; made at its first frame, and only for an endpoint with a rateLimit.
 *
 * While the server does not read the socket (flow control) the client's frames wait in TCP and
 * arrive together once it reads again: the time it was held back refills the bucket past its burst
 * (what the client could have sent meanwhile), for as long again after, so that a client within its
 * rate is not closed for the server's own pause.
 */
export class TokenBucket {
  #messages: number;
  #bytes: number;
  #at = performance.now();
  /** When reading was paused, while it is. */
  #heldAt: number | undefined;
  /** Until when tokens above the burst (the credit of the last pause) may be spent. */
  #creditUntil = 0;

  constructor(readonly rule: RateRule) {
    this.#messages = rule.messageBurst;
    this.#bytes = rule.byteBurst;
  }

  /** Takes a frame's tokens: false, taking nothing, when it is over the limit. */
  take(frame: Message<unknown, Notice>): boolean {
    this.#refill(performance.now());
    if (this.#messages < ONE_TOKEN || this.#bytes <= 0) return false;
    this.#messages -= 1;
    if (this.rule.bytesPerSecond > 0) this.#bytes -= frameBytes(frame);
    return true;
  }

  /** Reading the socket paused: from now on the bucket refills past its burst. */
  hold(): void {
    this.#refill(performance.now());
    this.#heldAt = this.#at;
  }

  /** Reading resumed: what the pause refilled past the burst may be spent for as long as it lasted. */
  release(): void {
    const heldAt = this.#heldAt;
    if (heldAt === undefined) return;
    this.#refill(performance.now());
    this.#heldAt = undefined;
    this.#creditUntil = this.#at + (this.#at - heldAt);
  }

  #refill(now: number): void {
    const rule = this.rule;
    // The monotonic clock: a wall clock set back (NTP) would drain the bucket for as long.
    const seconds = (now - this.#at) / 1000;
    this.#at = now;
    const held = this.#heldAt !== undefined;
    const expired = !held && now > this.#creditUntil;
    this.#messages = refill(this.#messages, seconds * rule.messagesPerSecond, held ? Infinity : rule.messageBurst, expired);
    this.#bytes = refill(this.#bytes, seconds * rule.bytesPerSecond, held ? Infinity : rule.byteBurst, expired);
  }
}

/** A whole token, less the float error of subtracting fractional timestamps (a client at its rate exactly is admitted). */
const ONE_TOKEN = 1 - 1e-9;

/** Tokens refilled by `add` up to `cap`; above it (a pause's credit) kept, or cut back to it once `expired`. */
function refill(tokens: number, add: number, cap: number, expired: boolean): number {
  if (tokens > cap) return expired ? cap : tokens;
  return Math.min(cap, tokens + add);
}

function frameBytes(frame: Message<unknown, Notice>): number {
  if (frame.type === "text") return utf8Length(frame.text);
  return frame.type === "binary" ? frame.data.byteLength : 0;
}
