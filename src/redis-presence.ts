// createRedisPresence: presence across instances (wsloop/redis).
//
// Each instance writes its entries to a hash per topic (field: the entry's ref, which starts with
// the instance's id) and keeps a key of its own alive with a heartbeat. Joins and leaves go out at
// once on a channel per topic; every heartbeat, each instance that watches a topic reads the hash
// again (a Lua script that also deletes the entries of instances whose key expired), which repairs
// what a lost notice missed and turns a dead instance's entries into leaves.
import { createClient } from "redis";
import type { Connection } from "./core/connection.ts";
import { unref } from "./core/keepalive.ts";
import {
  type Entry,
  type Presence,
  PresenceCore,
  type PresenceDiff,
  type PresenceMeta,
  type PresenceState,
} from "./core/presence.ts";
import { guardOnError } from "./core/report.ts";
import type { Selector } from "./core/selector.ts";
import { connectWithin, logRedisError, milliseconds, redacted } from "./redis-common.ts";

export type { Presence, PresenceDiff, PresenceMeta, PresenceState } from "./core/presence.ts";

/**
 * Options of {@link createRedisPresence}.
 *
 * @example
 * ```ts
 * await createRedisPresence({ url: process.env.REDIS_URL, ttl: 15_000 });
 * ```
 */
export interface RedisPresenceOptions {
  /** Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Starts every key and channel (default `wsloop:`): `PREFIX ph:TOPIC` (hash), `PREFIX pi:INSTANCE`, channel `PREFIX pc:TOPIC`. */
  prefix?: string;
  /**
   * Milliseconds (default 30000) within which the entries of an instance that died without
   * cleaning up (SIGKILL, a lost machine) leave on every other instance. It heartbeats every
   * third of it; one that misses two heartbeats in a row (an event loop blocked that long) is
   * taken for dead, and its entries come back (leave, then join) once it beats again.
   */
  ttl?: number;
  /** Connection errors; the clients reconnect, and the next heartbeat writes this instance's entries again. Default: console.error. */
  onError?: (error: unknown) => void;
  /** Milliseconds `createRedisPresence` waits for Redis (default 5000), then rejects. */
  connectTimeout?: number;
}

/**
 * A {@link Presence} shared by instances through Redis.
 *
 * @example
 * ```ts
 * const presence = await createRedisPresence<{ name: string }>({ url: process.env.REDIS_URL });
 * console.log(presence.instance, await presence.list("room:lobby"));
 * ```
 */
export interface RedisPresence<Meta extends object> extends Presence<Meta> {
  /** This instance's id: every ref it gives starts with it. */
  readonly instance: string;
}

/** Reads a topic's entries, deleting those of instances whose key expired. KEYS: the hash. ARGV: the instance key prefix. */
const SCAN = `
local all = redis.call('HGETALL', KEYS[1])
local alive = {}
local out = {}
for i = 1, #all, 2 do
  local ref = all[i]
  local instance = string.match(ref, '^([^.]+)%.') or ref
  local ok = alive[instance]
  if ok == nil then
    ok = redis.call('EXISTS', ARGV[1] .. instance) == 1
    alive[instance] = ok
  end
  if ok then
    out[#out + 1] = ref
    out[#out + 1] = all[i + 1]
  else
    redis.call('HDEL', KEYS[1], ref)
  end
end
return out
`;

/** Replaces an instance's entries in a topic. KEYS: the hash. ARGV: the ref prefix, then ref/value pairs. */
const REPLACE = `
local fields = redis.call('HKEYS', KEYS[1])
for _, ref in ipairs(fields) do
  if string.sub(ref, 1, #ARGV[1]) == ARGV[1] then redis.call('HDEL', KEYS[1], ref) end
end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
`;

/** A join or leave notice: the instance, its entries that joined ([ref, key, meta]) and the refs that left. */
interface Notice {
  i: string;
  j?: [string, string, unknown][];
  l?: string[];
}

/** What a watching instance remembers of a topic to read a scan right. */
interface Watch {
  /** When (in notices applied) each remote entry was added. */
  readonly added: Map<string, number>;
  /** Refs that left by a notice, and when: a scan sent before may still list them. */
  readonly left: Map<string, number>;
}

/**
 * Presence across instances on Redis (standalone Redis; node-redis as for the brokers).
 *
 * @example
 * ```ts
 * const presence = await createRedisPresence<{ name: string }>({ url: process.env.REDIS_URL });
 * // in onInit: presence.track(connection, "room:lobby", userId, { name }); return [state, presence.changes("room:lobby")];
 * ```
 */
export async function createRedisPresence<Meta extends object>(options: RedisPresenceOptions = {}): Promise<RedisPresence<Meta>> {
  const who = "createRedisPresence";
  const url = options.url ?? "redis://127.0.0.1:6379";
  const prefix = options.prefix ?? "wsloop:";
  const ttl = milliseconds("ttl", options.ttl, 30_000, who);
  const connectTimeout = milliseconds("connectTimeout", options.connectTimeout, 5000, who);
  const onError = guardOnError(options.onError, logRedisError);
  const beat = Math.max(10, Math.floor(ttl / 3));
  const instance = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  const aliveKey = `${prefix}pi:${instance}`;
  const hash = (topic: string) => `${prefix}ph:${topic}`;
  const channel = (topic: string) => `${prefix}pc:${topic}`;

  const command = createClient({ url, name: "wsloop", socket: { connectTimeout } });
  const subscriber = createClient({ url, name: "wsloop", socket: { connectTimeout } });
  let lastError: unknown;
  const report = (error: unknown) => {
    lastError = error;
    onError(error);
  };
  command.on("error", report);
  subscriber.on("error", report);
  await connectWithin([command, subscriber], connectTimeout, () => {
    const cause = lastError instanceof Error ? `: ${lastError.message}` : "";
    return new Error(`wsloop/redis: could not connect to ${redacted(url)} within ${connectTimeout} ms${cause}`, {
      cause: lastError,
    });
  });

  /** Topics whose entries in Redis may be wrong (a write failed): written whole at the next heartbeat. */
  const dirty = new Set<string>();
  const watches = new Map<string, Watch>();
  let notices = 0;
  let closed = false;
  const fail = (topic: string) => (error: unknown) => {
    dirty.add(topic);
    if (!closed) onError(error);
  };
  const encode = (entry: Entry<Meta>) => {
    const { ref: _, ...meta } = entry.shown as PresenceMeta<Meta>;
    return [entry.ref, entry.key, meta] as [string, string, unknown];
  };
  const decode = ([ref, key, meta]: [string, string, unknown]): Entry<Meta> => ({
    ref,
    key,
    shown: Object.freeze({ ...(meta as Meta), ref }),
  });
  const send = (topic: string, notice: Notice) => command.publish(channel(topic), JSON.stringify(notice)).catch(fail(topic));

  const core: PresenceCore<Meta> = new PresenceCore<Meta>(instance, {
    changed(topic, joined, left) {
      if (closed) return;
      const fields = joined.flatMap((entry) => {
        const [ref, key, meta] = encode(entry);
        return [ref, JSON.stringify([key, meta])];
      });
      if (fields.length > 0) command.sendCommand(["HSET", hash(topic), ...fields]).catch(fail(topic));
      if (left.length > 0) command.sendCommand(["HDEL", hash(topic), ...left.map((entry) => entry.ref)]).catch(fail(topic));
      void send(topic, { i: instance, j: joined.map(encode), l: left.map((entry) => entry.ref) });
    },
    watch(topic) {
      watches.set(topic, { added: new Map(), left: new Map() });
      subscriber.subscribe(channel(topic), (message) => heard(topic, message)).catch(onError);
      void scan(topic);
    },
    unwatch(topic) {
      watches.delete(topic);
      if (!closed) subscriber.unsubscribe(channel(topic)).catch(onError);
    },
  });

  function heard(topic: string, message: string): void {
    const watch = watches.get(topic);
    let notice: Notice;
    try {
      notice = JSON.parse(message) as Notice;
    } catch {
      return; // not ours
    }
    if (!watch || notice.i === instance) return;
    const at = ++notices;
    for (const ref of notice.l ?? []) {
      watch.left.set(ref, at);
      watch.added.delete(ref);
    }
    const joined = (notice.j ?? []).filter(([ref]) => !watch.left.has(ref)).map(decode);
    for (const entry of joined) if (!watch.added.has(entry.ref)) watch.added.set(entry.ref, at);
    core.applyRemote(topic, joined, notice.l ?? []);
  }

  /** Reads the topic's entries from Redis: what this instance knows of the others is set right. */
  async function read(topic: string): Promise<Entry<Meta>[]> {
    const reply = (await command.eval(SCAN, { keys: [hash(topic)], arguments: [`${prefix}pi:`] })) as string[];
    const entries: Entry<Meta>[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const ref = reply[i] as string;
      if (ref.startsWith(`${instance}.`)) continue;
      try {
        const [key, meta] = JSON.parse(reply[i + 1] as string) as [string, unknown];
        entries.push(decode([ref, key, meta]));
      } catch {
        // Not an entry of ours: skip it.
      }
    }
    return entries;
  }

  async function scan(topic: string): Promise<void> {
    const sentAt = notices;
    let entries: Entry<Meta>[];
    try {
      entries = await read(topic);
    } catch (error) {
      if (!closed) onError(error);
      return;
    }
    const watch = watches.get(topic);
    if (!watch) return;
    const present = new Set(entries.map((entry) => entry.ref));
    // A ref that left by a notice never comes back (refs are not reused); an entry added after this
    // scan was sent may be missing from it without having left.
    const joined = entries.filter((entry) => !watch.left.has(entry.ref) && !watch.added.has(entry.ref));
    const left = [...core.remoteRefs(topic)].filter((ref) => !present.has(ref) && (watch.added.get(ref) ?? 0) <= sentAt);
    for (const entry of joined) watch.added.set(entry.ref, sentAt);
    for (const ref of left) watch.added.delete(ref);
    for (const [ref, at] of watch.left) if (at <= sentAt) watch.left.delete(ref);
    core.applyRemote(topic, joined, left);
  }

  /** Keeps this instance alive; writes its entries again where Redis may have lost them. */
  async function heartbeat(): Promise<void> {
    let existed: unknown;
    try {
      existed = await command.sendCommand(["SET", aliveKey, "1", "PX", String(2 * beat), "GET"]);
    } catch (error) {
      if (!closed) onError(error);
      return;
    }
    // The key had expired (a stall, or Redis restarted empty): the others dropped these entries.
    const topics = existed === null ? new Set([...dirty, ...[...core.allLocal()].map(([topic]) => topic)]) : new Set(dirty);
    dirty.clear();
    for (const topic of topics) {
      const entries = core.local(topic);
      const fields = entries.flatMap((entry) => {
        const [ref, key, meta] = encode(entry);
        return [ref, JSON.stringify([key, meta])];
      });
      command.eval(REPLACE, { keys: [hash(topic)], arguments: [`${instance}.`, ...fields] }).catch(fail(topic));
      if (entries.length > 0) void send(topic, { i: instance, j: entries.map(encode) });
    }
    for (const topic of watches.keys()) void scan(topic);
  }

  await heartbeat();
  const timer = setInterval(() => void heartbeat(), beat);
  unref(timer);

  return {
    instance,
    track: (connection: Connection, topic: string, key: string, meta: Meta) => core.track(connection, topic, key, meta),
    untrack: (connection: Connection, topic: string, key: string) => core.untrack(connection, topic, key),
    async list(topic: string): Promise<PresenceState<Meta>> {
      if (core.watched(topic)) return core.state(topic);
      return core.state(topic, await read(topic));
    },
    changes: (topic: string): Selector<PresenceDiff<Meta>> => core.changes(topic),
    async close() {
      if (closed) return;
      clearInterval(timer);
      // Leave everywhere now rather than after the ttl: the writes go out before the connections close.
      core.removeAll();
      core.closed = true;
      closed = true;
      await command.del(aliveKey).catch(() => {});
      await Promise.allSettled([command.close(), subscriber.close()]);
    },
  };
}
