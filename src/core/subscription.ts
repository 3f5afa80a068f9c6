import type { Selector } from "./selector.ts";

/** The loop a subscription feeds: values and failures become its mail. */
export interface SelectorOwner {
  /** True once the loop is ending: it takes no new selector. */
  readonly ending: boolean;
  custom(value: unknown): void;
  /** The selector failed (in `subscribe` or later): the loop ends with 1011. */
  fail(error: unknown): void;
  /** An unsubscribe threw: worth reporting, nothing to end. */
  report(error: unknown): void;
}

/** The selector a loop listens to: switching to another, and letting go. */
export class Subscription {
  #selector: Selector<unknown> | undefined;
  #unsubscribe: (() => void) | undefined;
  readonly #owner: SelectorOwner;
  /** Made once: the same two functions go to every selector this loop subscribes. */
  readonly #deliver: (value: unknown) => void;
  readonly #fail: (error: unknown) => void;

  constructor(owner: SelectorOwner) {
    this.#owner = owner;
    this.#deliver = (value) => owner.custom(value);
    this.#fail = (error) => owner.fail(error);
  }

  /** Listens to `selector` instead of the current one, unless it is the current one or the loop is ending. */
  select(selector: Selector<unknown>): void {
    if (selector === this.#selector) return;
    this.drop();
    if (this.#owner.ending) return;
    try {
      this.#unsubscribe = selector.subscribe(this.#deliver, this.#fail);
      this.#selector = selector;
    } catch (error) {
      this.#owner.fail(error);
    }
    // It failed while subscribing (or right after): let go of it at once.
    if (this.#owner.ending) this.drop();
  }

  /** Stops listening. */
  drop(): void {
    const unsubscribe = this.#unsubscribe;
    this.#selector = undefined;
    this.#unsubscribe = undefined;
    try {
      unsubscribe?.();
    } catch (error) {
      this.#owner.report(error);
    }
  }
}
