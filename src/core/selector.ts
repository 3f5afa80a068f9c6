/**
 * A source of values fed into a connection's loop as `{ type: "custom" }` messages.
 * `subscribe` returns the function that ends the subscription. `onError` is called
 * when the selector cannot produce a value (a `mapSelector` function threw); the
 * loop then closes that connection with 1011.
 */
export interface Selector<T> {
  subscribe(deliver: (value: T) => void, onError?: (error: unknown) => void): () => void;
}

/** A selector the application sends values into, like a Gleam process Subject. */
export interface Subject<T> {
  /** Delivers `value` synchronously to every current subscriber. */
  send(value: T): void;
  readonly selector: Selector<T>;
  /** How many subscriptions are open: 0 once every connection using it has closed. */
  readonly subscriberCount: number;
}

/** Creates a {@link Subject}. */
export function createSubject<T>(): Subject<T> {
  // One entry per subscription, so the same function may subscribe twice and leave once.
  const subscribers = new Set<{ deliver: (value: T) => void }>();
  const selector: Selector<T> = {
    subscribe(deliver) {
      const entry = { deliver };
      subscribers.add(entry);
      return () => {
        subscribers.delete(entry);
      };
    },
  };
  return {
    send(value) {
      for (const entry of subscribers) entry.deliver(value);
    },
    selector,
    get subscriberCount() {
      return subscribers.size;
    },
  };
}

/** A selector that delivers the values of all of `selectors`. */
export function mergeSelectors<T>(...selectors: Selector<T>[]): Selector<T> {
  return {
    subscribe(deliver, onError) {
      const unsubscribes = selectors.map((selector) => selector.subscribe(deliver, onError));
      return () => {
        for (const unsubscribe of unsubscribes) unsubscribe();
      };
    },
  };
}

/** A selector that delivers `fn(value)` for each value of `selector`. */
export function mapSelector<A, B>(selector: Selector<A>, fn: (value: A) => B): Selector<B> {
  return {
    subscribe(deliver, onError) {
      return selector.subscribe((value) => {
        let mapped: B;
        try {
          mapped = fn(value);
        } catch (error) {
          // The producer must not see the consumer's mistake: it is that connection's failure.
          if (onError) onError(error);
          return;
        }
        deliver(mapped);
      }, onError);
    },
  };
}
