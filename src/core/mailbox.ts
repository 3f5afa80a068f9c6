import { unref } from "./keepalive.ts";

/** Consumed slots kept before they are dropped in one splice. */
const COMPACT_AFTER = 2048;

/** What fills a mailbox and can be told to stop for a while: reading the client's socket. */
export interface Producer {
  pause(): void;
  resume(): void;
}

/**
 * A loop's queue of mail, first in first out, with what it weighs. Once sealed it takes no more:
 * its terminal mail comes last. Its array is reused, not reallocated per item.
 */
export class Mailbox<T> {
  /** Each item followed by its weight: one array, one push per item. */
  #slots: (T | number | undefined)[] = [];
  #head = 0;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  /** The weight of the items queued. */
  bytes = 0;
  /** The last mail, once sealed. */
  terminal: T | undefined;
  /** Items dropped because they were still queued `drainMs` after the seal. */
  dropped = 0;
  /** The producer while it is paused, resumed once the weight is below `#resumeAt` (or at the seal). */
  #paused: Producer | undefined;
  #resumeAt = 0;

  /** How many items are queued. */
  get size(): number {
    return (this.#slots.length - this.#head) / 2;
  }

  /** Queues `item`; returns the weight now queued. */
  push(item: T, weight: number): number {
    this.#slots.push(item, weight);
    this.bytes += weight;
    return this.bytes;
  }

  shift(): T | undefined {
    const slots = this.#slots;
    const head = this.#head;
    if (head >= slots.length) {
      if (head > 0) this.#reset();
      return undefined;
    }
    const item = slots[head] as T;
    this.bytes -= slots[head + 1] as number;
    if (this.#paused !== undefined && this.bytes < this.#resumeAt) this.#resume();
    slots[head] = undefined;
    this.#head = head + 2;
    if (head >= COMPACT_AFTER && head * 2 >= slots.length) {
      slots.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }

  /**
   * Queues `terminal` last. With `drainMs`, what is queued before it may wait that long: then it is
   * dropped (and counted in `dropped`), and `terminal` comes next.
   */
  seal(terminal: T, drainMs?: number): void {
    this.terminal = terminal;
    // The closing handshake needs the client's close frame: reading resumes.
    this.#resume();
    if (drainMs !== undefined && this.size > 0) {
      this.#drainTimer = setTimeout(() => {
        this.dropped = Math.max(0, this.size - 1);
        this.#reset();
        this.push(terminal, 0);
      }, drainMs);
      unref(this.#drainTimer);
    }
    this.push(terminal, 0);
  }

  /** Empties it (a sealed one stays sealed, without its terminal); returns how many items the drain dropped. */
  clear(): number {
    clearTimeout(this.#drainTimer);
    this.#reset();
    this.#resume();
    return this.dropped;
  }

  /**
   * Stops `producer` until the weight drops below `resumeAt` (flow control: TCP then slows the
   * client down). False when it is paused already, or the mailbox is sealed.
   */
  pause(producer: Producer, resumeAt: number): boolean {
    if (this.#paused !== undefined || this.terminal !== undefined) return false;
    this.#paused = producer;
    this.#resumeAt = resumeAt;
    producer.pause();
    return true;
  }

  /** True while the producer is paused. */
  get paused(): boolean {
    return this.#paused !== undefined;
  }

  #resume(): void {
    const producer = this.#paused;
    this.#paused = undefined;
    producer?.resume();
  }

  #reset(): void {
    this.#slots.length = 0;
    this.#head = 0;
    this.bytes = 0;
  }
}
