import type { Payload } from "./broker.ts";
import type { Connection } from "./connection.ts";
import { type LiveConnection, type Membership, type NativeTopics, send } from "./connection.ts";
import { textExceeds } from "./size.ts";

type Hub = NativeTopics["hub"];

/**
 * A topic's members here, and what each member's connection holds to leave it when it closes: one
 * object for all of them, rather than a membership object and a Map entry per socket.
 */
class Topic implements Membership {
  /** Sockets the runtime fans out to natively, counted per server. */
  readonly hubs = new Map<Hub, number>();
  /** Sockets wsloop writes to one by one. */
  readonly plain = new Set<LiveConnection>();
  readonly members = new Set<LiveConnection>();

  constructor(
    readonly frames: FrameTopics,
    readonly name: string,
    /** The smallest maxMessageSize that ever joined (not raised on leave): below it, no member checks. */
    public smallest: number,
  ) {}

  leave(connection: LiveConnection): void {
    this.frames.leave(connection, this.name);
  }
}

const exceeds = (payload: Payload, limit: number) =>
  typeof payload === "string" ? textExceeds(payload, limit) : payload.byteLength > limit;

let brokers = 0;

/**
 * Sockets that receive a topic's frames directly, without a turn of their loop: a broker's
 * `join`/`leave`/`publishFrame`. `first` and `last` tell a remote broker when to (un)subscribe upstream.
 */
export class FrameTopics {
  readonly #topics = new Map<string, Topic>();
  /** Native topic names carry it, so two brokers on one server never see each other's frames. */
  readonly #prefix = `wsloop:${++brokers}:`;

  constructor(readonly hooks: { first?(topic: string): void; last?(topic: string): void } = {}) {}

  join(connection: Connection, name: string): void {
    const live = connection as LiveConnection;
    if (!live.open) return;
    let topic = this.#topics.get(name);
    if (topic?.members.has(live)) return;
    if (!topic) {
      topic = new Topic(this, name, live.limits.maxMessageSize);
      this.#topics.set(name, topic);
      this.hooks.first?.(name);
    }
    topic.smallest = Math.min(topic.smallest, live.limits.maxMessageSize);
    const native = live.transport.native;
    if (native) {
      native.subscribe(this.#prefix + name);
      topic.hubs.set(native.hub, (topic.hubs.get(native.hub) ?? 0) + 1);
    } else topic.plain.add(live);
    topic.members.add(live);
    // An array made with its first entry: an empty one grown by push reserves 17 slots (152 B on V8).
    if (live.memberships) live.memberships.push(topic);
    else live.memberships = [topic];
  }

  leave(connection: Connection, name: string): void {
    const live = connection as LiveConnection;
    const topic = this.#topics.get(name);
    if (!topic?.members.delete(live)) return;
    const memberships = live.memberships;
    const index = memberships ? memberships.indexOf(topic) : -1;
    if (memberships && index >= 0) memberships.splice(index, 1);
    const native = live.transport.native;
    if (native) {
      try {
        native.unsubscribe(this.#prefix + name);
      } catch {
        // The socket is already closed: the runtime dropped its topics with it.
      }
      const left = (topic.hubs.get(native.hub) ?? 1) - 1;
      if (left > 0) topic.hubs.set(native.hub, left);
      else topic.hubs.delete(native.hub);
    } else topic.plain.delete(live);
    if (topic.members.size === 0) {
      this.#topics.delete(name);
      this.hooks.last?.(name);
    }
  }

  /** Hands `payload` to every socket that joined `name` here. */
  deliver(name: string, payload: Payload): void {
    const topic = this.#topics.get(name);
    if (!topic) return;
    if (exceeds(payload, topic.smallest)) {
      this.#deliverChecked(topic, payload);
      return;
    }
    for (const hub of topic.hubs.keys()) hub.publish(this.#prefix + name, payload);
    // A slow socket is refused or closed by the usual limits; the others are not held up.
    for (const live of topic.plain) send(live, payload);
  }

  /**
   * A frame larger than some member's maxMessageSize is skipped for that member, as sendText would
   * refuse it (too_large); the runtime's fan-out cannot skip one, so every member is written to.
   */
  #deliverChecked(topic: Topic, payload: Payload): void {
    for (const live of topic.members) if (!exceeds(payload, live.limits.maxMessageSize)) send(live, payload);
  }

  /** How many sockets joined `name` here. */
  count(name: string): number {
    return this.#topics.get(name)?.members.size ?? 0;
  }
}
