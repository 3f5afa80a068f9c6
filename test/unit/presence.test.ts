// Presence in memory, through connections run by wsloop/testing: track, list, the changes selector
// (the whole state first, then Phoenix-shaped diffs), two tabs of one user, leaving on close.
import { describe, expect, it } from "vitest";
import {
  type Connection,
  continueConnectionWithSelector,
  createPresence,
  type Message,
  type Presence,
  type PresenceDiff,
  type Selector,
  sendText,
  upgradeWebSocket,
} from "../../src/index.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";

interface Meta {
  name: string;
}

/** A connection that tracks itself in "room" as `user` and sends every diff it gets as JSON. */
function join(presence: Presence<Meta>, user: string) {
  return connect(
    upgradeWebSocket(upgradeRequest(`http://localhost/?user=${user}`), {
      dependencies: presence,
      onError: () => {},
      onInit: (connection: Connection, deps: Presence<Meta>): [null, Selector<PresenceDiff<Meta>>] => {
        deps.track(connection, "room", user, { name: user.toUpperCase() });
        return [null, deps.changes("room")];
      },
      // The selector is returned on every turn: the subscription stays (no second initial state).
      onMessage: (state: null, message: Message<PresenceDiff<Meta>>, connection: Connection, deps: Presence<Meta>) => {
        if (message.type === "custom") sendText(connection, JSON.stringify(message.value));
        if (message.type === "text" && message.text === "untrack") deps.untrack(connection, "room", user);
        if (message.type === "text" && message.text.startsWith("rename "))
          deps.track(connection, "room", user, { name: message.text.slice(7) });
        return continueConnectionWithSelector(state, deps.changes("room"));
      },
      onClose: () => {},
    }),
  );
}

const diffs = (texts: string[]) => texts.map((text) => JSON.parse(text) as PresenceDiff<Meta>);
const names = (state: PresenceDiff<Meta>["joins"]) =>
  Object.fromEntries(Object.entries(state).map(([key, { metas }]) => [key, metas.map((meta) => meta.name)]));

describe("createPresence", () => {
  it("hands a subscriber the whole state first, then each join and leave, Phoenix-shaped", async () => {
    const presence = createPresence<Meta>();
    const ann = await join(presence, "ann");
    await ann.settled();
    const bob = await join(presence, "bob");
    await bob.settled();
    await ann.settled();
    const [annFirst, annSecond] = diffs(ann.texts());
    expect(names(annFirst?.joins ?? {})).toEqual({ ann: ["ANN"] });
    expect(annFirst?.leaves).toEqual({});
    expect(names(annSecond?.joins ?? {})).toEqual({ bob: ["BOB"] });
    // Bob's first diff is the state he found: both.
    expect(names(diffs(bob.texts())[0]?.joins ?? {})).toEqual({ ann: ["ANN"], bob: ["BOB"] });
    // Each meta carries its entry's ref.
    const ref = annSecond?.joins.bob?.metas[0]?.ref;
    expect(typeof ref).toBe("string");

    bob.close();
    await bob.settled();
    await ann.settled();
    const leave = diffs(ann.texts())[2];
    expect(leave).toEqual({ joins: {}, leaves: { bob: { metas: [{ name: "BOB", ref }] } } });
    expect(names(await presence.list("room"))).toEqual({ ann: ["ANN"] });
  });

  it("keeps a user with two tabs as one key with two entries; closing one tab leaves only that entry", async () => {
    const presence = createPresence<Meta>();
    const tab1 = await join(presence, "ann");
    const tab2 = await join(presence, "ann");
    await tab1.settled();
    const state = await presence.list("room");
    expect(Object.keys(state)).toEqual(["ann"]);
    const refs = state.ann?.metas.map((meta) => meta.ref) ?? [];
    expect(refs).toHaveLength(2);
    expect(new Set(refs).size).toBe(2);
    tab2.disconnect();
    await tab2.settled();
    await tab1.settled();
    expect(diffs(tab1.texts()).at(-1)).toEqual({ joins: {}, leaves: { ann: { metas: [{ name: "ANN", ref: refs[1] }] } } });
    expect((await presence.list("room")).ann?.metas.map((meta) => meta.ref)).toEqual([refs[0]]);
  });

  it("untracks, and replaces the meta when tracked again (a leave and a join in one diff)", async () => {
    const presence = createPresence<Meta>();
    const ann = await join(presence, "ann");
    ann.sendText("rename Annie");
    await ann.settled();
    const renamed = diffs(ann.texts())[1];
    expect(names(renamed?.joins ?? {})).toEqual({ ann: ["Annie"] });
    expect(names(renamed?.leaves ?? {})).toEqual({ ann: ["ANN"] });
    ann.sendText("untrack");
    await ann.settled();
    expect(names(diffs(ann.texts())[2]?.leaves ?? {})).toEqual({ ann: ["Annie"] });
    expect(await presence.list("room")).toEqual({});
    // Closing after untrack sends no second leave.
    ann.close();
    await ann.settled();
    expect(ann.texts()).toHaveLength(3);
  });

  it("ignores a closed connection, and on close makes everyone leave", async () => {
    const presence = createPresence<Meta>();
    const ann = await join(presence, "ann");
    ann.close();
    await ann.settled();
    presence.track(ann.connection, "room", "ghost", { name: "GHOST" });
    expect(await presence.list("room")).toEqual({});
    const got: PresenceDiff<Meta>[] = [];
    presence.changes("room").subscribe((diff) => got.push(diff));
    const bob = await join(presence, "bob");
    await presence.close();
    expect(names(got.at(-1)?.leaves ?? {})).toEqual({ bob: ["BOB"] });
    expect(await presence.list("room")).toEqual({});
    bob.close();
    await bob.settled();
  });
});
