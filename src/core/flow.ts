// What comes into a loop: a client's frames through its rate limit, and any mail through the
// mailbox's bounds.
//
// Flow control: a client that sends faster than its handler keeps up is slowed down by TCP rather
// than closed. At pauseReadingAt queued bytes the mailbox pauses reading the socket (where the
// transport can: Node, Bun), and resumes it below resumeReadingAt, or once the loop is ending (the
// closing handshake needs the client's close frame). maxQueuedBytes stays the hard bound: runtimes
// deliver what they had read before the pause, and selector values are not paused.
import type { LiveConnection } from "./connection.ts";
import type { Mailbox, Producer } from "./mailbox.ts";
import type { AnyMessage, Mail } from "./phase.ts";
import { TokenBucket } from "./rate-limit.ts";
import { MESSAGE_OVERHEAD, messageSize } from "./size.ts";

/** Reading paused at this many queued bytes by default (at most half of maxQueuedBytes). */
export const DEFAULT_PAUSE_READING_AT = 1024 * 1024;

/**
 * Queues `message`: false when that takes the mailbox past maxQueuedBytes (the loop then closes
 * with 1008). At pauseReadingAt it pauses reading the socket, where the transport can.
 */
export function enqueue(mailbox: Mailbox<Mail>, message: AnyMessage, connection: LiveConnection): boolean {
  const bytes = mailbox.push(message, messageSize(message) + MESSAGE_OVERHEAD);
  const { limits, transport } = connection;
  const stats = transport.stats;
  if (bytes > limits.maxQueuedBytes) {
    if (stats) stats.queueOverflows++;
    return false;
  }
  stats?.queued(message, bytes);
  const producer = bytes >= limits.pauseReadingAt && !mailbox.paused ? producerOf(connection) : undefined;
  if (producer && mailbox.pause(producer, limits.resumeReadingAt) && stats) stats.pauses++;
  return true;
}

// Each rate-limited connection's bucket, made at its first frame: a connection without a rateLimit
// carries nothing for it.
const buckets = new WeakMap<LiveConnection, TokenBucket>();

/**
 * A client's frame through the connection's rateLimit: the frame, or over the limit a
 * rate_limited notice (`exceeded: "message"`) or undefined (the loop closes with 1008).
 */
export function admit(frame: AnyMessage, connection: LiveConnection): AnyMessage | undefined {
  const rule = connection.limits.rateRule;
  if (rule === undefined) return frame;
  let bucket = buckets.get(connection);
  if (!bucket) {
    bucket = new TokenBucket(rule);
    buckets.set(connection, bucket);
  }
  if (bucket.take(frame)) return frame;
  const stats = connection.transport.stats;
  if (stats) stats.rateLimited++;
  return rule.deliver && (frame.type === "text" || frame.type === "binary")
    ? { type: "rate_limited", message: frame }
    : undefined;
}

/**
 * The transport as the mailbox's producer, where the runtime can stop reading a socket; with a
 * rate limit, one that tells the bucket too (frames held back by the pause arrive together after it).
 */
function producerOf(connection: LiveConnection): Producer | undefined {
  const transport = connection.transport;
  if (!transport.pause || !transport.resume) return undefined;
  const bucket = buckets.get(connection);
  return bucket ? new HeldBack(transport as Producer, bucket) : (transport as Producer);
}

class HeldBack implements Producer {
  constructor(
    readonly transport: Producer,
    readonly bucket: TokenBucket,
  ) {}

  pause(): void {
    this.bucket.hold();
    this.transport.pause();
  }

  resume(): void {
    this.bucket.release();
    this.transport.resume();
  }
}

/** pauseReadingAt and resumeReadingAt with their defaults, checked against each other and maxQueuedBytes. */
export function flowOf(
  options: { pauseReadingAt?: number | undefined; resumeReadingAt?: number | undefined },
  maxQueuedBytes: number,
): { pauseReadingAt: number; resumeReadingAt: number } {
  const pauseReadingAt = options.pauseReadingAt ?? Math.min(DEFAULT_PAUSE_READING_AT, maxQueuedBytes / 2);
  if (!(pauseReadingAt > 0 && pauseReadingAt <= maxQueuedBytes))
    throw new RangeError("upgradeWebSocket: pauseReadingAt must be a positive number of bytes, at most maxQueuedBytes");
  const resumeReadingAt = options.resumeReadingAt ?? pauseReadingAt / 2;
  if (!(resumeReadingAt > 0 && resumeReadingAt < pauseReadingAt))
    throw new RangeError("upgradeWebSocket: resumeReadingAt must be a positive number of bytes, below pauseReadingAt");
  return { pauseReadingAt, resumeReadingAt };
}
