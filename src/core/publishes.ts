import { unref } from "./keepalive.ts";
import { PublishError } from "./stream.ts";

/** What a buffered publish weighs besides its payload. */
export const PUBLISH_OVERHEAD = 256;

/** One publish on its way: buffered while the store is unreachable, or sent and not yet answered. */
export class Publish<Item> {
  settled = false;
  readonly promise: Promise<void>;
  #resolve!: () => void;
  #reject!: (error: unknown) => void;

  constructor(
    readonly item: Item,
    readonly topic: string,
    readonly bytes: number,
    readonly deadline: number,
    /** Told when it settles, so the oldest settled ones are let go of at once. */
    readonly onSettle: () => void,
  ) {
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Accepted: resolves the publish (once; later outcomes are ignored). */
  done(): void {
    if (this.settled) return;
    this.settled = true;
    this.#resolve();
    this.onSettle();
  }

  /** Not accepted: rejects the publish (once). */
  fail(error: PublishError): void {
    if (this.settled) return;
    this.settled = true;
    this.#reject(error);
    this.onSettle();
  }
}

/**
 * The publishes of one broker that are not settled yet, in publish order: a bounded buffer for
 * those waiting for the store to come back, and one timer for every deadline (they expire in
 * publish order, so the oldest unsettled one is the next to expire).
 */
export class Publishes<Item> {
  /** Waiting for the store, in publish order (settled ones are skipped when taken). */
  #buffer: Publish<Item>[] = [];
  /** What the buffered publishes weigh. */
  bufferedBytes = 0;
  /** Every publish not known to be settled, in publish order: the deadlines. */
  #open: Publish<Item>[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #settled = () => this.#drop();

  constructor(
    readonly maxBufferedBytes: number,
    readonly timeout: number,
  ) {}

  /** A new publish, with its deadline running. */
  start(item: Item, topic: string, bytes: number): Publish<Item> {
    const publish = new Publish(item, topic, bytes + PUBLISH_OVERHEAD, performance.now() + this.timeout, this.#settled);
    this.#open.push(publish);
    if (this.#timer === undefined) this.#arm(publish.deadline);
    return publish;
  }

  /** Buffers `publish` until the store is back; rejects it with `buffer_full` past the bound. */
  buffer(publish: Publish<Item>): void {
    if (this.bufferedBytes + publish.bytes > this.maxBufferedBytes) {
      publish.fail(
        new PublishError(
          "buffer_full",
          publish.topic,
          `the store is unreachable and ${this.bufferedBytes} bytes of publishes already wait for it (maxBufferedBytes ${this.maxBufferedBytes})`,
        ),
      );
      return;
    }
    this.bufferedBytes += publish.bytes;
    this.#buffer.push(publish);
  }

  /** True when publishes wait in the buffer: a new one must queue behind them to keep the order. */
  get waiting(): boolean {
    return this.#buffer.length > 0;
  }

  /** Takes the buffered publishes still unsettled, in order. */
  take(): Publish<Item>[] {
    const taken = this.#buffer.filter((publish) => !publish.settled);
    this.#buffer = [];
    this.bufferedBytes = 0;
    return taken;
  }

  /** Rejects every unsettled publish (the broker closes). */
  failAll(error: (publish: Publish<Item>) => PublishError): void {
    const open = this.#open.slice(this.#head);
    this.#open = [];
    this.#head = 0;
    this.#buffer = [];
    this.bufferedBytes = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const publish of open) publish.fail(error(publish));
  }

  #arm(deadline: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, deadline - performance.now()));
    unref(this.#timer);
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    const expired: Publish<Item>[] = [];
    for (let i = this.#head; i < this.#open.length; i++) {
      const publish = this.#open[i] as Publish<Item>;
      if (publish.settled) continue;
      if (publish.deadline > now) break;
      expired.push(publish);
    }
    for (const publish of expired)
      publish.fail(new PublishError("timeout", publish.topic, `not acknowledged within ${this.timeout} ms (publishTimeout)`));
    if (expired.length > 0 && this.#buffer.length > 0) {
      this.#buffer = this.#buffer.filter((publish) => !publish.settled);
      this.bufferedBytes = this.#buffer.reduce((sum, publish) => sum + publish.bytes, 0);
    }
    const next = this.#open[this.#head];
    if (next) this.#arm(next.deadline);
  }

  /** Lets go of the settled publishes at the head (replies come in publish order, so this keeps up). */
  #drop(): void {
    const open = this.#open;
    while (this.#head < open.length && (open[this.#head] as Publish<Item>).settled) this.#head++;
    if (this.#head === open.length) {
      if (open.length > 0) {
        this.#open = [];
        this.#head = 0;
      }
    } else if (this.#head > 1024 && this.#head * 2 > open.length) {
      this.#open = open.slice(this.#head);
      this.#head = 0;
    }
  }
}
