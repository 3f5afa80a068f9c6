import { type Connection, LiveConnection, type Membership } from "./connection.ts";
import type { Selector } from "./selector.ts";

/**
 * One tracked entry as lists and diffs show it: its meta, and `ref`, unique to this entry (a user
 * in two tabs has two entries under one key, told apart by `ref`).
 *
 * @example
 * ```ts
 * const meta: PresenceMeta<{ name: string }> = { name: "Ann", ref: "k3x9.1" };
 * ```
 */
export type PresenceMeta<Meta> = Meta & { readonly ref: string };

/**
 * Who is in a topic, by key (Phoenix's shape): each key with the metas of its entries.
 *
 * @example
 * ```ts
 * const state: PresenceState<{ name: string }> = { ann: { metas: [{ name: "Ann", ref: "k3x9.1" }, { name: "Ann", ref: "k3x9.4" }] } };
 * ```
 */
export type PresenceState<Meta> = { readonly [key: string]: { readonly metas: readonly PresenceMeta<Meta>[] } };

/**
 * What changed in a topic (Phoenix's `presence_diff`): the entries that joined and those that
 * left, by key. The first diff a subscription gets is the whole current state, as joins.
 *
 * @example
 * ```ts
 * const diff: PresenceDiff<{ name: string }> = { joins: { bob: { metas: [{ name: "Bob", ref: "k3x9.7" }] } }, leaves: {} };
 * ```
 */
export interface PresenceDiff<Meta> {
  /** The entries that joined, by key. */
  readonly joins: PresenceState<Meta>;
  /** The entries that left, by key (their metas as they were). */
  readonly leaves: PresenceState<Meta>;
}

/**
 * Who is connected where: `track` a connection under a key in a topic (it leaves when the socket
 * closes), `list` a topic, and listen to its `changes`. In one process ({@link createPresence}) or
 * across instances (`createRedisPresence` from `wsloop/redis`).
 *
 * @example
 * ```ts
 * function onInit(connection: Connection, deps: Deps): [null, Selector<PresenceDiff<{ name: string }>>] {
 *   deps.presence.track(connection, "room:lobby", deps.userId, { name: deps.userName });
 *   return [null, deps.presence.changes("room:lobby")];
 * }
 * ```
 */
export interface Presence<Meta extends object> {
  /**
   * Tracks `connection` in `topic` under `key` with `meta` until the socket closes (or `untrack`).
   * Tracking the same connection, topic and key again replaces its meta (a leave and a join).
   * Nothing happens for a connection that is closed.
   */
  track(connection: Connection, topic: string, key: string, meta: Meta): void;
  /** Ends what `track` started for this connection, topic and key; nothing happens if there is none. */
  untrack(connection: Connection, topic: string, key: string): void;
  /** Who is in `topic` now. */
  list(topic: string): Promise<PresenceState<Meta>>;
  /**
   * The changes of `topic`: first its whole state as joins, then each join and leave. While
   * subscribed, the same topic gives the same selector.
   */
  changes(topic: string): Selector<PresenceDiff<Meta>>;
  /** Ends every entry this presence tracks (they leave) and stops. */
  close(): Promise<void>;
}

/** One entry: where it is tracked from, and how it is shown. */
export interface Entry<Meta> {
  readonly ref: string;
  readonly key: string;
  readonly shown: PresenceMeta<Meta>;
}

interface View<Meta> {
  /** This process's entries. */
  readonly local: Map<string, Entry<Meta>>;
  /** Other instances' entries (Redis), as last known. */
  readonly remote: Map<string, Entry<Meta>>;
  readonly subscribers: Set<{ deliver(diff: PresenceDiff<Meta>): void }>;
  selector: Selector<PresenceDiff<Meta>> | undefined;
}

/** What a presence shared between instances is told. */
export interface PresenceHooks<Meta> {
  /** Local entries joined or left `topic`. */
  changed?(topic: string, joined: readonly Entry<Meta>[], left: readonly Entry<Meta>[]): void;
  /** `topic` got its first changes subscriber here: start following the others. */
  watch?(topic: string): void;
  /** The last one left. */
  unwatch?(topic: string): void;
}

let instances = 0;

/** A connection's entry in a topic: left when the socket closes. */
class Tracked<Meta extends object> implements Membership {
  constructor(
    readonly presence: PresenceCore<Meta>,
    readonly connection: LiveConnection,
    readonly topic: string,
    readonly entry: Entry<Meta>,
  ) {}

  leave(): void {
    this.presence.remove(this);
  }
}

/** The presence of one process: its own entries, what it knows of other instances', and the subscribers. */
export class PresenceCore<Meta extends object> {
  readonly #views = new Map<string, View<Meta>>();
  #serial = 0;
  closed = false;

  constructor(
    /** Starts every ref: unique per process (and instance). */
    readonly instance: string = `m${++instances}`,
    readonly hooks: PresenceHooks<Meta> = {},
  ) {}

  track(connection: Connection, topic: string, key: string, meta: Meta): void {
    if (this.closed || !LiveConnection.is(connection) || !connection.open) return;
    const previous = this.#find(connection, topic, key);
    if (previous) this.#detach(previous);
    const ref = `${this.instance}.${(++this.#serial).toString(36)}`;
    const entry: Entry<Meta> = { ref, key, shown: Object.freeze({ ...meta, ref }) };
    const tracked = new Tracked(this, connection, topic, entry);
    if (connection.memberships) connection.memberships.push(tracked);
    else connection.memberships = [tracked];
    this.#view(topic).local.set(ref, entry);
    const left = previous ? [previous.entry] : [];
    this.#emit(topic, [entry], left);
    this.hooks.changed?.(topic, [entry], left);
  }

  untrack(connection: Connection, topic: string, key: string): void {
    if (!LiveConnection.is(connection)) return;
    const tracked = this.#find(connection, topic, key);
    if (tracked) this.remove(tracked);
  }

  /** Ends one entry (untrack, the socket closed). */
  remove(tracked: Tracked<Meta>): void {
    if (!this.#detach(tracked)) return;
    this.#emit(tracked.topic, [], [tracked.entry]);
    this.hooks.changed?.(tracked.topic, [], [tracked.entry]);
    this.#forget(tracked.topic);
  }

  /** Ends every local entry (close). */
  removeAll(): void {
    for (const [topic, view] of this.#views) {
      const left = [...view.local.values()];
      view.local.clear();
      if (left.length > 0) {
        this.#emit(topic, [], left);
        this.hooks.changed?.(topic, [], left);
      }
    }
  }

  /** Other instances' entries joined or left, as a shared store told; only real changes reach the subscribers. */
  applyRemote(topic: string, joined: readonly Entry<Meta>[], leftRefs: readonly string[]): void {
    const view = this.#views.get(topic);
    if (!view) return;
    const joins: Entry<Meta>[] = [];
    const leaves: Entry<Meta>[] = [];
    for (const ref of leftRefs) {
      const entry = view.remote.get(ref);
      if (entry && view.remote.delete(ref)) leaves.push(entry);
    }
    for (const entry of joined) {
      if (view.remote.has(entry.ref) || view.local.has(entry.ref)) continue;
      view.remote.set(entry.ref, entry);
      joins.push(entry);
    }
    if (joins.length > 0 || leaves.length > 0) this.#emit(topic, joins, leaves);
  }

  /** The refs of other instances' entries this process knows in `topic`. */
  remoteRefs(topic: string): IterableIterator<string> {
    return (this.#views.get(topic)?.remote ?? new Map<string, Entry<Meta>>()).keys();
  }

  /** This process's entries in `topic`. */
  local(topic: string): Entry<Meta>[] {
    return [...(this.#views.get(topic)?.local.values() ?? [])];
  }

  /** Every topic with local entries, and those entries. */
  *allLocal(): IterableIterator<[string, Entry<Meta>[]]> {
    for (const [topic, view] of this.#views) if (view.local.size > 0) yield [topic, [...view.local.values()]];
  }

  /** The state of `topic` as this process knows it (its own and, when watched, the others'). */
  state(topic: string, others: Iterable<Entry<Meta>> = []): PresenceState<Meta> {
    const view = this.#views.get(topic);
    const entries = view ? [...view.local.values(), ...view.remote.values()] : [];
    return stateOf([...entries, ...others]);
  }

  /** True while `topic` has changes subscribers here. */
  watched(topic: string): boolean {
    return (this.#views.get(topic)?.subscribers.size ?? 0) > 0;
  }

  changes(topic: string): Selector<PresenceDiff<Meta>> {
    const known = this.#views.get(topic)?.selector;
    if (known) return known;
    const selector: Selector<PresenceDiff<Meta>> = {
      subscribe: (deliver) => {
        const view = this.#view(topic);
        view.selector ??= selector;
        const subscriber = { deliver };
        const first = view.subscribers.size === 0;
        view.subscribers.add(subscriber);
        if (first) this.hooks.watch?.(topic);
        deliver({ joins: this.state(topic), leaves: {} });
        return () => {
          const now = this.#views.get(topic);
          if (!now?.subscribers.delete(subscriber) || now.subscribers.size > 0) return;
          now.selector = undefined;
          now.remote.clear();
          this.hooks.unwatch?.(topic);
          this.#forget(topic);
        };
      },
    };
    return selector;
  }

  #find(connection: LiveConnection, topic: string, key: string): Tracked<Meta> | undefined {
    for (const membership of connection.memberships ?? [])
      if (
        membership instanceof Tracked &&
        membership.presence === this &&
        membership.topic === topic &&
        membership.entry.key === key
      )
        return membership as Tracked<Meta>;
    return undefined;
  }

  /** Takes the entry out of its view and its connection; false if it was already out. */
  #detach(tracked: Tracked<Meta>): boolean {
    const memberships = tracked.connection.memberships;
    const index = memberships ? memberships.indexOf(tracked) : -1;
    if (memberships && index >= 0) memberships.splice(index, 1);
    return this.#views.get(tracked.topic)?.local.delete(tracked.entry.ref) ?? false;
  }

  #view(topic: string): View<Meta> {
    let view = this.#views.get(topic);
    if (!view) {
      view = { local: new Map(), remote: new Map(), subscribers: new Set(), selector: undefined };
      this.#views.set(topic, view);
    }
    return view;
  }

  /** Drops a view that holds nothing any more. */
  #forget(topic: string): void {
    const view = this.#views.get(topic);
    if (view && view.local.size === 0 && view.subscribers.size === 0 && view.remote.size === 0) this.#views.delete(topic);
  }

  #emit(topic: string, joins: readonly Entry<Meta>[], leaves: readonly Entry<Meta>[]): void {
    const view = this.#views.get(topic);
    if (!view || view.subscribers.size === 0) return;
    const diff: PresenceDiff<Meta> = { joins: stateOf(joins), leaves: stateOf(leaves) };
    for (const subscriber of Array.from(view.subscribers)) subscriber.deliver(diff);
  }
}

/** Entries grouped by key, Phoenix's shape. */
export function stateOf<Meta>(entries: Iterable<Entry<Meta>>): PresenceState<Meta> {
  const state: Record<string, { metas: PresenceMeta<Meta>[] }> = {};
  for (const entry of entries) {
    const group = state[entry.key];
    if (group) group.metas.push(entry.shown);
    else state[entry.key] = { metas: [entry.shown] };
  }
  return state;
}

/**
 * Presence within this process.
 *
 * @example
 * ```ts
 * const presence = createPresence<{ name: string }>();
 * // in onInit: presence.track(connection, "room:lobby", userId, { name }); return [state, presence.changes("room:lobby")];
 * console.log(await presence.list("room:lobby"));
 * ```
 */
export function createPresence<Meta extends object>(): Presence<Meta> {
  const core = new PresenceCore<Meta>();
  return {
    track: (connection, topic, key, meta) => core.track(connection, topic, key, meta),
    untrack: (connection, topic, key) => core.untrack(connection, topic, key),
    list: (topic) => Promise.resolve(core.state(topic)),
    changes: (topic) => core.changes(topic),
    async close() {
      core.removeAll();
      core.closed = true;
    },
  };
}
