import { describe, expect, it, vi } from "vitest";
import {
  type Action,
  continueConnection,
  continueConnectionWithSelector,
  createSubject,
  type Message,
  mapSelector,
  mergeSelectors,
  type Selector,
  type Subject,
  upgradeWebSocket,
} from "../../src/index.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";

type Deps = { first: Subject<string>; second: Subject<string>; seen: string[] };

function deps(): Deps {
  return { first: createSubject(), second: createSubject(), seen: [] };
}

function initWithFirst(_c: unknown, d: Deps): [null, Selector<string>] {
  return [null, d.first.selector];
}

function switchOnText(state: null, message: Message<string>, _c: unknown, d: Deps): Action<null, string> {
  if (message.type === "custom") d.seen.push(message.value);
  if (message.type === "text") d.seen.push(`text:${message.text}`);
  if (message.type === "text" && message.text === "switch") return continueConnectionWithSelector(state, d.second.selector);
  return continueConnection(state);
}

async function open(d: Deps) {
  return connect(
    upgradeWebSocket(upgradeRequest(), { dependencies: d, onInit: initWithFirst, onMessage: switchOnText, onClose: () => {} }),
  );
}

describe("selectors", () => {
  it("feeds the onInit selector's values into onMessage through the same queue as frames", async () => {
    const d = deps();
    const socket = await open(d);
    d.first.send("a");
    socket.sendText("b");
    d.first.send("c");
    await socket.settled();
    expect(d.seen).toEqual(["a", "text:b", "c"]);
  });

  it("replaces the selector: the old one is unsubscribed before the new one subscribes", async () => {
    const d = deps();
    const order: string[] = [];
    const tracked = (name: string, subject: Subject<string>): Selector<string> => ({
      subscribe(deliver) {
        order.push(`subscribe ${name}`);
        const unsubscribe = subject.selector.subscribe(deliver);
        return () => {
          order.push(`unsubscribe ${name}`);
          unsubscribe();
        };
      },
    });
    const first = tracked("first", d.first);
    const second = tracked("second", d.second);
    const socket = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: d,
        onInit: (): [null, Selector<string>] => [null, first],
        onMessage: (s: null, m: Message<string>) => {
          if (m.type === "custom") d.seen.push(m.value);
          return m.type === "text" ? continueConnectionWithSelector(s, second) : continueConnection(s);
        },
        onClose: () => {},
      }),
    );
    socket.sendText("switch");
    await socket.settled();
    d.first.send("lost");
    d.second.send("kept");
    await socket.settled();
    expect(order).toEqual(["subscribe first", "unsubscribe first", "subscribe second"]);
    expect(d.seen).toEqual(["kept"]);
    expect(d.first.subscriberCount).toBe(0);
    expect(d.second.subscriberCount).toBe(1);
  });

  it("keeps the current selector on continueConnection and when the same selector is passed again", async () => {
    const d = deps();
    const subscribe = vi.spyOn(d.first.selector, "subscribe");
    const socket = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: d,
        onInit: (): [null, Selector<string>] => [null, d.first.selector],
        onMessage: (s: null, m: Message<string>) =>
          m.type === "text" ? continueConnectionWithSelector(s, d.first.selector) : continueConnection(s),
        onClose: () => {},
      }),
    );
    socket.sendText("same");
    socket.sendText("again");
    await socket.settled();
    expect(subscribe).toHaveBeenCalledTimes(1);
    expect(d.first.subscriberCount).toBe(1);
  });

  it("unsubscribes everything when the socket closes, and later values are not delivered", async () => {
    const d = deps();
    const socket = await open(d);
    socket.sendText("switch");
    await socket.settled();
    expect(d.first.subscriberCount + d.second.subscriberCount).toBe(1);
    socket.disconnect();
    await socket.settled();
    d.second.send("after close");
    expect(d.first.subscriberCount + d.second.subscriberCount).toBe(0);
    expect(d.seen).toEqual(["text:switch"]);
  });

  it("does not subscribe the onInit selector when the socket closed while onInit ran", async () => {
    const d = deps();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const socket = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: d,
        onInit: async (): Promise<[null, Selector<string>]> => {
          await gate;
          return [null, d.first.selector];
        },
        onMessage: switchOnText,
        onClose: () => {},
      }),
    );
    socket.disconnect();
    release();
    await socket.settled();
    expect(socket.closeCalled).toBe(true);
    expect(d.first.subscriberCount).toBe(0);
  });

  it("runs a value sent from inside a handler after that handler returns, never re-entrantly", async () => {
    const subject = createSubject<number>();
    const trace: string[] = [];
    const socket = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: subject,
        onInit: (_c: unknown, s: Subject<number>): [null, Selector<number>] => [null, s.selector],
        onMessage: (state: null, m: Message<number>, _c: unknown, s: Subject<number>) => {
          trace.push(`start ${m.type}`);
          if (m.type === "text") s.send(1);
          trace.push(`end ${m.type}`);
          return continueConnection(state);
        },
        onClose: () => {},
      }),
    );
    socket.sendText("go");
    await socket.settled();
    expect(trace).toEqual(["start text", "end text", "start custom", "end custom"]);
  });

  it("merges and maps selectors", async () => {
    const numbers = createSubject<number>();
    const words = createSubject<string>();
    const merged = mergeSelectors(
      mapSelector(numbers.selector, (n) => `n${n}`),
      words.selector,
    );
    const seen: string[] = [];
    const unsubscribe = merged.subscribe((value) => seen.push(value));
    numbers.send(1);
    words.send("w");
    expect(seen).toEqual(["n1", "w"]);
    expect(numbers.subscriberCount + words.subscriberCount).toBe(2);
    unsubscribe();
    expect(numbers.subscriberCount + words.subscriberCount).toBe(0);
  });

  it("closes the connection with 1011 when a mapSelector function throws, without troubling the sender", async () => {
    const subject = createSubject<number>();
    const onError = vi.fn();
    const socket = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: (): [null, Selector<number>] => [
          null,
          mapSelector(subject.selector, (n) => {
            if (n < 0) throw new Error("negative");
            return n;
          }),
        ],
        onMessage: (s: null) => continueConnection(s),
        onClose: () => {},
        onError,
      }),
    );
    expect(() => subject.send(-1)).not.toThrow();
    await socket.settled();
    expect(socket.closedByServer?.code).toBe(1011);
    expect(onError).toHaveBeenCalledWith(new Error("negative"), socket.connection);
    expect(subject.subscriberCount).toBe(0);
  });

  it("accepts custom values pushed straight into the loop by the harness", async () => {
    const d = deps();
    const socket = await open(d);
    socket.sendCustom("direct");
    await socket.settled();
    expect(d.seen).toEqual(["direct"]);
  });
});
