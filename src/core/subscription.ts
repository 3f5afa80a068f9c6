import type { Selector } from "./selector.ts";

/** The selector a loop listens to, and how it stops listening. */
export class Subscription {
  #selector: Selector<unknown> | undefined;
  #unsubscribe: (() => void) | undefined;

  /** True when `selector` is the one subscribed. */
  has(selector: Selector<unknown>): boolean {
    return this.#selector === selector;
  }

  /** Subscribes `selector` (the current one is dropped first); throws what its `subscribe` throws. */
  subscribe(selector: Selector<unknown>, deliver: (value: unknown) => void, onError: (error: unknown) => void): void {
    this.#unsubscribe = selector.subscribe(deliver, onError);
    this.#selector = selector;
  }

  /** Stops listening; returns what the selector's unsubscribe threw, if anything. */
  drop(): { error: unknown } | undefined {
    const unsubscribe = this.#unsubscribe;
    this.#selector = undefined;
    this.#unsubscribe = undefined;
    try {
      unsubscribe?.();
    } catch (error) {
      return { error };
    }
    return undefined;
  }
}
