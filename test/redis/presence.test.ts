// createRedisPresence against a real redis-server: instances in this process share who is where.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type Connection, continueConnection, type PresenceDiff, type PresenceState, upgradeWebSocket } from "../../src/index.ts";
import { createRedisPresence, type RedisPresence } from "../../src/redis.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";
import { eventually } from "../matrix/client.ts";
import { withSharedRedis } from "./redis-server.ts";

interface Meta {
  name: string;
}

const quiet = { onError: () => {} };

/** An in-memory connection tracked in `topic` as `key`. */
async function tracked(presence: RedisPresence<Meta>, topic: string, key: string) {
  return connect(
    upgradeWebSocket(upgradeRequest(), {
      dependencies: null,
      onInit: (connection: Connection): [null] => {
        presence.track(connection, topic, key, { name: key.toUpperCase() });
        return [null];
      },
      onMessage: (state: null) => continueConnection(state),
      onClose: () => {},
    }),
  );
}

/** Follows a topic's changes as Phoenix's syncDiff would: refs by key. */
function follow(presence: RedisPresence<Meta>, topic: string) {
  const refs = new Map<string, string>();
  const diffs: PresenceDiff<Meta>[] = [];
  const stop = presence.changes(topic).subscribe((diff) => {
    diffs.push(diff);
    for (const [key, { metas }] of Object.entries(diff.joins)) for (const meta of metas) refs.set(meta.ref, key);
    for (const { metas } of Object.values(diff.leaves)) for (const meta of metas) refs.delete(meta.ref);
  });
  const counts = () => {
    const byKey: Record<string, number> = {};
    for (const key of refs.values()) byKey[key] = (byKey[key] ?? 0) + 1;
    return byKey;
  };
  return { diffs, stop, counts };
}

const countsOf = (state: PresenceState<Meta>) =>
  Object.fromEntries(Object.entries(state).map(([key, { metas }]) => [key, metas.length]));
const same = (a: object, b: object) => JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort());

describe("createRedisPresence", () => {
  const shared = withSharedRedis();

  it("shares joins and leaves between instances, Phoenix-shaped, two tabs as two entries under one key", async () => {
    const [one, two] = await Promise.all([
      createRedisPresence<Meta>({ url: shared.redis.url, ttl: 1500, ...quiet }),
      createRedisPresence<Meta>({ url: shared.redis.url, ttl: 1500, ...quiet }),
    ]);
    const topic = randomUUID();
    const watcher = follow(two, topic);
    const ann1 = await tracked(one, topic, "ann");
    const ann2 = await tracked(one, topic, "ann");
    const bob = await tracked(two, topic, "bob");
    await eventually(async () => same(watcher.counts(), { ann: 2, bob: 1 }));
    expect(countsOf(await one.list(topic))).toEqual({ ann: 2, bob: 1 });
    expect(countsOf(await two.list(topic))).toEqual({ ann: 2, bob: 1 });
    const join = watcher.diffs.find((diff) => diff.joins.ann);
    expect(join?.joins.ann?.metas[0]).toMatchObject({
      name: "ANN",
      ref: expect.stringMatching(new RegExp(`^${one.instance}\\.`)),
    });

    ann2.close();
    await ann2.settled();
    await eventually(async () => same(watcher.counts(), { ann: 1, bob: 1 }));
    const leave = watcher.diffs.at(-1);
    expect(leave?.joins).toEqual({});
    expect(Object.keys(leave?.leaves ?? {})).toEqual(["ann"]);
    ann1.close();
    bob.close();
    await Promise.all([ann1.settled(), bob.settled()]);
    await eventually(async () => same(watcher.counts(), {}));
    watcher.stop();
    await Promise.all([one.close(), two.close()]);
  });

  it("makes an instance's members leave at once when it closes; writes its entries again when Redis lost them", async () => {
    const [one, two, watcherSide] = await Promise.all(
      [1, 2, 3].map(() => createRedisPresence<Meta>({ url: shared.redis.url, ttl: 900, ...quiet })),
    );
    const topic = randomUUID();
    const watcher = follow(watcherSide as RedisPresence<Meta>, topic);
    await tracked(one as RedisPresence<Meta>, topic, "ann");
    await tracked(two as RedisPresence<Meta>, topic, "bob");
    await eventually(async () => same(watcher.counts(), { ann: 1, bob: 1 }));
    await (one as RedisPresence<Meta>).close();
    await eventually(async () => same(watcher.counts(), { bob: 1 }), 500);
    // As after a Redis restart without persistence: the instance's key and entries are gone. Its
    // next heartbeat finds its key missing and writes its entries again.
    await shared.probe.del([`wsloop:pi:${(two as RedisPresence<Meta>).instance}`, `wsloop:ph:${topic}`]);
    await eventually(async () => (await shared.probe.hLen(`wsloop:ph:${topic}`)) === 1, 5_000);
    await eventually(async () => same(watcher.counts(), { bob: 1 }), 5_000);
    expect(countsOf(await (watcherSide as RedisPresence<Meta>).list(topic))).toEqual({ bob: 1 });
    watcher.stop();
    await Promise.all([(two as RedisPresence<Meta>).close(), (watcherSide as RedisPresence<Meta>).close()]);
  });

  it("lists a topic it does not watch from Redis, and removes nothing of others' on close", async () => {
    const [one, two] = await Promise.all([
      createRedisPresence<Meta>({ url: shared.redis.url, ...quiet }),
      createRedisPresence<Meta>({ url: shared.redis.url, ...quiet }),
    ]);
    const topic = randomUUID();
    await tracked(one, topic, "ann");
    await eventually(async () => same(countsOf(await two.list(topic)), { ann: 1 }));
    await two.close();
    expect(countsOf(await one.list(topic))).toEqual({ ann: 1 });
    expect(await shared.probe.hLen(`wsloop:ph:${topic}`)).toBe(1);
    await one.close();
    expect(await shared.probe.hLen(`wsloop:ph:${topic}`)).toBe(0);
  });
});
