import { ActionImpl } from "./action.ts";
import type { LiveConnection } from "./connection.ts";
import { Histogram } from "./histogram.ts";
import type { AnyMessage, Mail } from "./phase.ts";
import type { Session } from "./session.ts";
import { isThenable } from "./thenable.ts";
import type { AnyOptions } from "./upgrade.ts";

/**
 * What a server has done, from `server.stats()`: plain numbers, cheap to read every second.
 *
 * @example
 * ```ts
 * const { connections, messagesIn, handlerTime } = server.stats();
 * console.log(`${connections} open, ${messagesIn} messages in, p99 ${handlerTime.p99} ms`);
 * ```
 */
export interface ServerStats {
  /** Connections whose loop is running now. */
  readonly connections: number;
  /** The most connections open at once since the server started. */
  readonly peakConnections: number;
  /** Upgrades accepted, and upgrade requests refused, by HTTP status (the app's, a cap's, a timeout's, shutdown's 503). */
  readonly upgrades: { readonly accepted: number; readonly refused: Readonly<Record<number, number>> };
  /** Text and binary frames from clients (pings aside). */
  readonly messagesIn: number;
  /** Their bytes: binary exactly, text as its length in UTF-16 units (its UTF-8 size when ASCII; counting exactly would cost a pass over every text). */
  readonly bytesIn: number;
  /** Frames sent: sendText, sendBinary, brokers' fan-out (not Bun's native publishFrame). */
  readonly messagesOut: number;
  /** Their bytes, counted as bytesIn. */
  readonly bytesOut: number;
  /** Bytes waiting for handlers now, all connections together (weighed as for maxQueuedBytes). */
  readonly queuedBytes: number;
  /** The most bytes one connection had waiting, since the server started. */
  readonly peakQueuedBytes: number;
  /** Connections whose socket is not being read now (flow control, see pauseReadingAt). */
  readonly pausedConnections: number;
  /** How many times reading a socket was paused. */
  readonly pauses: number;
  /** Sends refused with "backpressure". */
  readonly backpressure: number;
  /** Connections closed with 1008 because the client stopped reading (slowConsumerLimit). */
  readonly slowConsumers: number;
  /** Connections closed with 1008 because their queue passed maxQueuedBytes. */
  readonly queueOverflows: number;
  /** Frames over a rateLimit (closed with 1008, or handed to the handler). */
  readonly rateLimited: number;
  /** Closes by code: the one the server sent, or the client's when it closed first (1006: the connection dropped). */
  readonly closes: Readonly<Record<number, number>>;
  /**
   * onMessage time in milliseconds (an async handler's until it settles), measured on a sample
   * (every message while they are rare, about one a millisecond under load; every one with
   * telemetry): `p50` and `p99` of the last one to two minutes; `count`, `sum` and cumulative
   * `buckets` (samples of at most `le` ms) since the server started.
   */
  readonly handlerTime: {
    readonly p50: number;
    readonly p99: number;
    readonly count: number;
    readonly sum: number;
    readonly buckets: readonly { readonly le: number; readonly count: number }[];
  };
}

/** What telemetry (OpenTelemetry, when configured) is told, besides what Stats counts. */
export interface Tracing {
  /** A message had to wait in the mailbox: its time queued starts now. */
  queued(message: Mail): void;
  /** Starts the span of handling `message`; `run` calls the handler inside it. */
  start(connection: LiveConnection, message: AnyMessage): TracedCall;
  /** The connection closed with `code`. */
  closed(connection: LiveConnection, code: number): void;
}

/** One handler call being traced. */
export interface TracedCall {
  run<T>(handler: () => T): T;
  /** The handler returned (`failed` false) or threw or rejected with `error`. */
  end(ms: number, failed: boolean, error?: unknown): void;
}

/**
 * Handler calls are timed on a sample: a clock read costs about as much as the rest of a message
 * in the loop (90 ns here). One call in mask + 1 is timed, and the mask adapts at each sample: it
 * doubles while samples come less than SAMPLE_GAP_MS apart, and halves when they come more than
 * ten times that apart. The server resets it every second (`resample`), so that a quiet spell
 * after a burst is sampled at once. Rare messages are all timed; under load about one a millisecond is.
 */
const SAMPLE_GAP_MS = 1;
const MAX_SAMPLE_MASK = 4095;

/** The clock, read once: Node's global `performance` is a getter (as much again as `now()` itself). */
const clock = performance;

/** One server's counters. The hot paths only add to numbers; `snapshot` does the rest. */
export class Stats {
  messagesIn = 0;
  bytesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  peakQueuedBytes = 0;
  pauses = 0;
  backpressure = 0;
  slowConsumers = 0;
  queueOverflows = 0;
  rateLimited = 0;
  upgradesAccepted = 0;
  readonly upgradesRefused = new Map<number, number>();
  readonly closes = new Map<number, number>();
  readonly handlerTime = new Histogram();
  /** Set once telemetry is loaded: every message is then timed and traced. */
  tracing: Tracing | undefined;
  #tick = 0;
  #mask = 0;
  #lastSample = 0;

  received(data: string | Uint8Array): void {
    this.messagesIn++;
    this.bytesIn += typeof data === "string" ? data.length : data.byteLength;
  }

  sent(data: string | Uint8Array): void {
    this.messagesOut++;
    this.bytesOut += typeof data === "string" ? data.length : data.byteLength;
  }

  /** A message waits in a mailbox that now weighs `bytes`. */
  queued(message: Mail, bytes: number): void {
    if (bytes > this.peakQueuedBytes) this.peakQueuedBytes = bytes;
    this.tracing?.queued(message);
  }

  closed(code: number, connection: LiveConnection): void {
    increment(this.closes, code);
    this.tracing?.closed(connection, code);
  }

  refused(status: number): void {
    increment(this.upgradesRefused, status);
  }

  /** Times the next handler call again, and adapts from there: the server calls it every second. */
  resample(): void {
    this.#mask = 0;
  }

  /** True when the next handler call is timed (and so goes through `call`). */
  timed(): boolean {
    return this.tracing !== undefined || (++this.#tick & this.#mask) === 0;
  }

  /** Runs onMessage for `message`, timed (and traced, when telemetry is on); throws or rejects as it does. */
  call(options: AnyOptions, state: unknown, message: AnyMessage, connection: LiveConnection): unknown {
    if (this.tracing !== undefined) return this.#traced(this.tracing, options, state, message, connection);
    const start = clock.now();
    let result: unknown;
    try {
      result = options.onMessage(state, message, connection, options.dependencies);
    } catch (error) {
      this.#done(start, undefined, true, error);
      throw error;
    }
    return this.#settled(result, start, undefined);
  }

  #traced(tracing: Tracing, options: AnyOptions, state: unknown, message: AnyMessage, connection: LiveConnection): unknown {
    const traced = tracing.start(connection, message);
    const start = clock.now();
    let result: unknown;
    try {
      result = traced.run(() => options.onMessage(state, message, connection, options.dependencies));
    } catch (error) {
      this.#done(start, traced, true, error);
      throw error;
    }
    return this.#settled(result, start, traced);
  }

  /** `result` as the handler returned it; a promise settles after it is timed. */
  #settled(result: unknown, start: number, traced: TracedCall | undefined): unknown {
    if (result instanceof ActionImpl || !isThenable(result)) {
      this.#done(start, traced, false);
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        this.#done(start, traced, false);
        return value;
      },
      (error: unknown) => {
        this.#done(start, traced, true, error);
        throw error;
      },
    );
  }

  #done(start: number, traced: TracedCall | undefined, failed: boolean, error?: unknown): void {
    const now = clock.now();
    this.handlerTime.record(now - start, now);
    traced?.end(now - start, failed, error);
    const gap = now - this.#lastSample;
    this.#lastSample = now;
    if (gap < SAMPLE_GAP_MS) this.#mask = Math.min(this.#mask * 2 + 1, MAX_SAMPLE_MASK);
    else if (gap > 10 * SAMPLE_GAP_MS) this.#mask >>= 1;
  }

  /** The snapshot `server.stats()` returns; walks the sessions for what is queued and paused now. */
  snapshot(sessions: Iterable<Session>, connections: number, peakConnections: number): ServerStats {
    let queuedBytes = 0;
    let pausedConnections = 0;
    for (const session of sessions) {
      const mailbox = session.mailbox;
      if (mailbox === undefined) continue;
      queuedBytes += mailbox.bytes;
      if (mailbox.paused) pausedConnections++;
    }
    const now = clock.now();
    const time = this.handlerTime;
    return {
      connections,
      peakConnections,
      upgrades: { accepted: this.upgradesAccepted, refused: Object.fromEntries(this.upgradesRefused) },
      messagesIn: this.messagesIn,
      bytesIn: this.bytesIn,
      messagesOut: this.messagesOut,
      bytesOut: this.bytesOut,
      queuedBytes,
      peakQueuedBytes: this.peakQueuedBytes,
      pausedConnections,
      pauses: this.pauses,
      backpressure: this.backpressure,
      slowConsumers: this.slowConsumers,
      queueOverflows: this.queueOverflows,
      rateLimited: this.rateLimited,
      closes: Object.fromEntries(this.closes),
      handlerTime: {
        p50: time.recent(0.5, now),
        p99: time.recent(0.99, now),
        count: time.count,
        sum: time.sum,
        buckets: time.cumulative(),
      },
    };
  }
}

function increment(counts: Map<number, number>, key: number): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Calls `options.onMessage`; through the server's stats when this call is timed or traced. */
export function onMessage(options: AnyOptions, state: unknown, message: AnyMessage, connection: LiveConnection): unknown {
  const stats = connection.transport.stats;
  return stats?.timed()
    ? stats.call(options, state, message, connection)
    : options.onMessage(state, message, connection, options.dependencies);
}
