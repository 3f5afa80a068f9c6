import { describe, expect, it, vi } from "vitest";
import {
  type Action,
  type Connection,
  continueConnection,
  type Message,
  sendText,
  stopConnection,
  upgradeWebSocket,
} from "../../src/index.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";

type Log = { events: string[]; closes: number; inits: number };

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function recorder(): Log {
  return { events: [], closes: 0, inits: 0 };
}

function init(_c: Connection, log: Log): [number] {
  log.inits++;
  return [0];
}

function record(state: number, message: Message<never>, _c: Connection, log: Log): Action<number, never> {
  log.events.push(
    message.type === "text" ? `text:${message.text}` : message.type === "closed" ? `closed:${message.code}` : message.type,
  );
  return continueConnection(state + 1);
}

function countClose(state: number, log: Log): void {
  log.closes++;
  log.events.push(`onClose:${state}`);
}

describe("the loop", () => {
  it("runs onInit once, then each message in order, then the closed notice and onClose once", async () => {
    const log = recorder();
    const socket = await connect<number>(
      upgradeWebSocket(upgradeRequest(), { dependencies: log, onInit: init, onMessage: record, onClose: countClose }),
    );
    socket.sendText("a");
    socket.sendBinary(new Uint8Array([1]));
    socket.close(1000, "bye");
    socket.close(1000, "again");
    await socket.settled();
    expect(log.inits).toBe(1);
    expect(log.events).toEqual(["text:a", "binary", "closed:1000", "onClose:2"]);
    expect(log.closes).toBe(1);
    expect(socket.closeCalled).toBe(true);
  });

  it("queues messages that arrive while an async onInit is pending, in order", async () => {
    const log = recorder();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slowInit = async (): Promise<[number]> => {
      await gate;
      return [100];
    };
    const socket = await connect<number>(
      upgradeWebSocket(upgradeRequest(), { dependencies: log, onInit: slowInit, onMessage: record, onClose: countClose }),
    );
    for (const text of ["1", "2", "3"]) socket.sendText(text);
    await tick();
    expect(log.events).toEqual([]);
    release();
    await socket.settled();
    expect(log.events).toEqual(["text:1", "text:2", "text:3"]);
    expect(socket.state).toBe(103);
  });

  it("awaits async handlers one at a time and keeps the order of 1,000 messages", async () => {
    const seen: string[] = [];
    let running = 0;
    let maxRunning = 0;
    async function onMessage(state: number, message: Message<never>): Promise<Action<number, never>> {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, Math.random() < 0.1 ? 1 : 0));
      if (message.type === "text") seen.push(message.text);
      running--;
      return continueConnection(state + 1);
    }
    const socket = await connect<number>(
      upgradeWebSocket(upgradeRequest(), { dependencies: null, onInit: () => [0], onMessage, onClose: () => {} }),
    );
    const sent = Array.from({ length: 1000 }, (_, i) => String(i));
    for (const text of sent) socket.sendText(text);
    await socket.settled();
    expect(seen).toEqual(sent);
    expect(maxRunning).toBe(1);
    expect(socket.state).toBe(1000);
  });

  it("after stopConnection closes with the code and reason, runs onClose once and no onMessage", async () => {
    const log = recorder();
    function stopOnStop(state: number, message: Message<never>, c: Connection, deps: Log): Action<number, never> {
      if (message.type === "text" && message.text === "stop") return stopConnection({ code: 4000, reason: "done" });
      return record(state, message, c, deps);
    }
    const socket = await connect<number>(
      upgradeWebSocket(upgradeRequest(), { dependencies: log, onInit: init, onMessage: stopOnStop, onClose: countClose }),
    );
    socket.sendText("a");
    socket.sendText("stop");
    socket.sendText("after");
    socket.close();
    await socket.settled();
    expect(socket.closedByServer).toEqual({ code: 4000, reason: "done" });
    expect(log.events).toEqual(["text:a", "onClose:1"]);
    expect(log.closes).toBe(1);
  });

  it("stopConnection defaults to close code 1000 and rejects codes and reasons a server may not send", async () => {
    const socket = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: () => [0],
        onMessage: () => stopConnection(),
        onClose: () => {},
      }),
    );
    socket.sendText("x");
    await socket.settled();
    expect(socket.closedByServer).toEqual({ code: 1000, reason: "" });
    for (const code of [999, 1005, 1006, 1015, 2000, 5000, 4000.5]) expect(() => stopConnection({ code })).toThrow(RangeError);
    expect(() => stopConnection({ reason: "é".repeat(61) })).not.toThrow();
    expect(() => stopConnection({ reason: "é".repeat(62) })).toThrow(RangeError);
  });

  it("reports the code of an abrupt disconnect as 1006", async () => {
    const log = recorder();
    const socket = await connect<number>(
      upgradeWebSocket(upgradeRequest(), { dependencies: log, onInit: init, onMessage: record, onClose: countClose }),
    );
    socket.disconnect();
    await socket.settled();
    expect(log.events).toEqual(["closed:1006", "onClose:0"]);
  });

  it("ignores the action returned for the closed notice and closes with the last state", async () => {
    const closes: number[] = [];
    const onMessage = (state: number, message: Message<never>) =>
      message.type === "closed" ? (undefined as unknown as Action<number, never>) : continueConnection(state + 1);
    const onError = vi.fn();
    const socket = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: () => [5],
        onMessage,
        onClose: (s: number) => void closes.push(s),
        onError,
      }),
    );
    socket.sendText("a");
    socket.close();
    await socket.settled();
    expect(closes).toEqual([6]);
    expect(onError).not.toHaveBeenCalled();
  });

  it("closes with 1011 when a handler throws, reports the error and closes with the last good state", async () => {
    const closes: number[] = [];
    const errors: unknown[] = [];
    function onMessage(state: number, message: Message<never>): Action<number, never> {
      if (message.type === "text" && message.text === "boom") throw new Error("boom");
      return continueConnection(state + 1);
    }
    const options = {
      dependencies: null,
      onInit: (): [number] => [0],
      onMessage,
      onClose: (state: number) => void closes.push(state),
      onError: (error: unknown) => void errors.push(error),
    };
    const failing = await connect(upgradeWebSocket(upgradeRequest(), options));
    const healthy = await connect(upgradeWebSocket(upgradeRequest(), options));
    failing.sendText("a");
    failing.sendText("boom");
    failing.sendText("never");
    healthy.sendText("a");
    await failing.settled();
    expect(failing.closedByServer).toEqual({ code: 1011, reason: "Internal Error" });
    expect(errors).toEqual([new Error("boom")]);
    expect(closes).toEqual([1]);
    healthy.sendText("b");
    await healthy.settled();
    expect(healthy.closedByServer).toBeUndefined();
    expect(healthy.state).toBe(2);
  });

  it("treats a rejected async handler like a throw", async () => {
    const closes: number[] = [];
    const onError = vi.fn();
    const onMessage = async (state: number): Promise<Action<number, never>> => {
      if (state === 1) throw new Error("async boom");
      return continueConnection(state + 1);
    };
    const socket = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: () => [0],
        onMessage,
        onClose: (s: number) => void closes.push(s),
        onError,
      }),
    );
    socket.sendText("a");
    socket.sendText("b");
    await socket.settled();
    expect(socket.closedByServer?.code).toBe(1011);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[1]).toBe(socket.connection);
    expect(closes).toEqual([1]);
  });

  it("closes with 1011 and skips onClose when onInit fails", async () => {
    const onClose = vi.fn();
    const onMessage = vi.fn();
    const onError = vi.fn();
    const socket = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: async (): Promise<[number]> => {
          throw new Error("no state");
        },
        onMessage,
        onClose,
        onError,
      }),
    );
    socket.sendText("queued");
    await socket.settled();
    expect(socket.closedByServer?.code).toBe(1011);
    expect(onError).toHaveBeenCalledWith(new Error("no state"), socket.connection);
    expect(onMessage).not.toHaveBeenCalled();
    expect(onClose).not.toHaveBeenCalled();
  });

  it("fails the connection when onMessage returns something that is not an Action", async () => {
    const onError = vi.fn();
    const socket = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: () => [0],
        onMessage: (() => 42) as never,
        onClose: () => {},
        onError,
      }),
    );
    socket.sendText("a");
    await socket.settled();
    expect(socket.closedByServer?.code).toBe(1011);
    expect(String(onError.mock.calls[0]?.[0])).toMatch(/must return continueConnection/);
  });

  it("falls back to console.error when no onError is given", async () => {
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    const socket = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: () => [0],
        onMessage: () => {
          throw new Error("logged");
        },
        onClose: () => {},
      }),
    );
    socket.sendText("a");
    await socket.settled();
    expect(spy).toHaveBeenCalledWith(expect.stringContaining("[wsloop] connection"), new Error("logged"));
    spy.mockRestore();
  });

  it("closes with 1009 on a message over maxMessageSize and still closes the loop once", async () => {
    const log = recorder();
    const socket = await connect<number>(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: log,
        onInit: init,
        onMessage: record,
        onClose: countClose,
        maxMessageSize: 4,
      }),
    );
    socket.sendText("abcd");
    socket.sendText("é€"); // 5 bytes in UTF-8, 2 UTF-16 units
    socket.sendText("late");
    await socket.settled();
    expect(socket.closedByServer).toEqual({ code: 1009, reason: "Message Too Big" });
    expect(log.events).toEqual(["text:abcd", "closed:1009", "onClose:1"]);
    const binary = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: log,
        onInit: init,
        onMessage: record,
        onClose: countClose,
        maxMessageSize: 4,
      }),
    );
    binary.sendBinary(new Uint8Array(5));
    await binary.settled();
    expect(binary.closedByServer?.code).toBe(1009);
  });

  it("awaits an async onClose before the loop counts as settled, and reports its rejection", async () => {
    const onError = vi.fn();
    let closed = false;
    const socket = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: () => [0],
        onMessage: (s: number) => continueConnection(s),
        onClose: async () => {
          await tick();
          closed = true;
          throw new Error("close failed");
        },
        onError,
      }),
    );
    socket.close();
    await socket.settled();
    expect(closed).toBe(true);
    expect(onError).toHaveBeenCalledWith(new Error("close failed"), socket.connection);
  });

  it("lets a handler send while it runs, and sends fail with 'closed' after the socket closed", async () => {
    let kept: Connection | undefined;
    const socket = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: (c: Connection): [number] => {
          kept = c;
          return [0];
        },
        onMessage: (s: number, m: Message<never>, c: Connection) => {
          if (m.type === "text") expect(sendText(c, `echo ${m.text}`)).toEqual({ ok: true, value: undefined });
          return continueConnection(s);
        },
        onClose: () => {},
      }),
    );
    socket.sendText("a");
    socket.close();
    await socket.settled();
    expect(socket.texts()).toEqual(["echo a"]);
    expect(sendText(kept as Connection, "late")).toEqual({ ok: false, error: { type: "closed" } });
  });
});
