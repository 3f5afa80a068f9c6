import { unref } from "./keepalive.ts";

/** Consumed slots kept before they are dropped in one splice. */
const COMPACT_AFTER = 1024;

/**
 * A loop's queue of mail, first in first out, with what it weighs. Once sealed it takes no more:
 * its terminal mail comes last. Its arrays are reused, not reallocated per item.
 */
export class Mailbox<T> {
  #items: (T | undefined)[] = [];
  #weights: number[] = [];
  #head = 0;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  /** The weight of the items queued. */
  bytes = 0;
  /** The last mail, once sealed. */
  terminal: T | undefined;
  /** Items dropped because they were still queued `drainMs` after the seal. */
  dropped = 0;

  /** How many items are queued. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: T, weight: number): void {
    this.#items.push(item);
    this.#weights.push(weight);
    this.bytes += weight;
  }

  shift(): T | undefined {
    const items = this.#items;
    if (this.#head >= items.length) {
      if (items.length > 0) this.#reset();
      return undefined;
    }
    const item = items[this.#head];
    this.bytes -= this.#weights[this.#head] as number;
    items[this.#head++] = undefined;
    if (this.#head >= COMPACT_AFTER && this.#head * 2 >= items.length) {
      items.splice(0, this.#head);
      this.#weights.splice(0, this.#head);
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

  /** Empties it (a sealed one stays sealed, without its terminal). */
  clear(): void {
    clearTimeout(this.#drainTimer);
    this.#reset();
  }

  #reset(): void {
    this.#items.length = 0;
    this.#weights.length = 0;
    this.#head = 0;
    this.bytes = 0;
  }
}
