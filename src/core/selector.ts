/**
 * A source of values fed into a connection's loop as `{ type: "custom" }` messages, through the
 * same queue as the socket's own messages. Anything with this `subscribe` is a selector.
 *
 * @example
 * ```ts
 * const ticks: Selector<number> = {
 *   subscribe(deliver) {
 *     let n = 0;
 *     const timer = setInterval(() => deliver(++n), 1000);
 *     return () => clearInterval(timer);
 *   },
 * };
 * ```
 */
export interface Selector<T> {
  /**
   * Starts delivering values; returns the function that stops. `onError` is for a selector that
   * cannot produce a value (a `mapSelector` function threw): the loop closes that connection with 1011.
   */
  subscribe(deliver: (value: T) => void, onError?: (error: unknown) => void): () => void;
}

/**
 * A selector the application sends values into, like a Gleam process Subject.
 *
 * @example
 * ```ts
 * const announcements = createSubject<string>();
 * // in onInit: return [state, announcements.selector];
 * announcements.send("Maintenance at noon"); // every subscribed loop gets { type: "custom", value }
 * ```
 */
export interface Subject<T> {
  /** Hands `value` to every current subscriber; each connection's loop takes it in its own turn, in order. */
  send(value: T): void;
  /** The selector of the values sent: return it from `onInit` or `continueConnectionWithSelector`. */
  readonly selector: Selector<T>;
  /** How many subscriptions are open: 0 once every connection using it has closed. */
  readonly subscriberCount: number;
}

/**
 * Creates a {@link Subject}.
 *
 * @example
 * ```ts
 * const news = createSubject<string>();
 * function onInit(_c: Connection, _d: Deps): [null, Selector<string>] {
 *   return [null, news.selector];
 * }
 * news.send("Extra!");
 * ```
 */
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
      // A snapshot: a subscriber that subscribes again while being delivered to is not delivered to twice.
      for (const entry of Array.from(subscribers)) entry.deliver(value);
    },
    selector,
    get subscriberCount() {
      return subscribers.size;
    },
  };
}

/**
 * A selector that delivers the values of all of `selectors`.
 *
 * @example
 * ```ts
 * return [state, mergeSelectors(news.selector, alerts.selector)];
 * ```
 */
export function mergeSelectors<T>(...selectors: Selector<T>[]): Selector<T> {
  return {
    subscribe(deliver, onError) {
      const unsubscribes: (() => void)[] = [];
      const unsubscribeAll = () => {
        // Every one is unsubscribed even when one throws; the first error is rethrown after.
        let failure: { error: unknown } | undefined;
        for (const unsubscribe of unsubscribes.splice(0)) {
          try {
            unsubscribe();
          } catch (error) {
            failure ??= { error };
          }
        }
        if (failure) throw failure.error;
      };
      try {
        for (const selector of selectors) unsubscribes.push(selector.subscribe(deliver, onError));
      } catch (error) {
        // The ones already subscribed must not outlive a merge that never started.
        try {
          unsubscribeAll();
        } catch {
          // The subscribe error is the one to report.
        }
        throw error;
      }
      return unsubscribeAll;
    },
  };
}

/**
 * A selector that delivers `fn(value)` for each value of `selector`.
 *
 * @example
 * ```ts
 * const events = mapSelector(news.selector, (text) => ({ kind: "news" as const, text }));
 * ```
 */
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
