import type { StandardSchemaV1 as Spec } from "@standard-schema/spec";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  type Connection,
  continueConnection,
  type JsonMessage,
  jsonMessages,
  type RateLimited,
  type StandardSchemaV1,
  sendJson,
  sendText,
  upgradeWebSocket,
} from "../../src/index.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";
import { openKeepingConnection } from "./helpers.ts";

const Say = z.object({ type: z.literal("say"), text: z.string().max(10) });
type Say = z.infer<typeof Say>;

function onMessage(state: number, message: JsonMessage<Say, never>, connection: Connection) {
  if (message.type === "json") sendJson(connection, { echo: message.value.text });
  if (message.type === "invalid") sendText(connection, `invalid:${message.error.type}`);
  if (message.type === "binary") sendText(connection, "binary");
  return continueConnection(state + 1);
}

const open = (options: Parameters<typeof jsonMessages>[2] = {}, schema: StandardSchemaV1 = Say) =>
  connect<number>(
    upgradeWebSocket(upgradeRequest(), {
      dependencies: null,
      onInit: (): [number] => [0],
      onMessage: jsonMessages(schema as typeof Say, onMessage, options),
      onClose: () => {},
    }),
  );

describe("jsonMessages", () => {
  it("hands valid frames to the handler parsed and typed, synchronously", async () => {
    const socket = await open();
    socket.sendText(JSON.stringify({ type: "say", text: "hi" }));
    // zod validates synchronously: the reply is there without waiting a tick.
    expect(socket.texts()).toEqual(['{"echo":"hi"}']);
    socket.sendBinary(new Uint8Array([1]));
    await socket.settled();
    expect(socket.texts()).toEqual(['{"echo":"hi"}', "binary"]);
    expect(socket.state).toBe(2);
  });

  it("delivers frames that are not JSON or do not match as errors, with the schema's issues", async () => {
    const seen: JsonMessage<Say, unknown>[] = [];
    const socket = await connect(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: (): [null] => [null],
        onMessage: jsonMessages(Say, (s: null, m) => {
          seen.push(m);
          return continueConnection(s);
        }),
        onClose: () => {},
      }),
    );
    socket.sendText("{not json");
    socket.sendText(JSON.stringify({ type: "say", text: "far too long for the schema" }));
    await socket.settled();
    expect(seen[0]).toMatchObject({ type: "invalid", text: "{not json", error: { type: "syntax" } });
    expect(seen[1]).toMatchObject({ type: "invalid", error: { type: "schema", issues: [{ path: ["text"] }] } });
    expect(socket.closedByServer).toBeUndefined();
  });

  it("closes with 1007 on a frame that is not JSON and 1008 on one that does not match, when asked to", async () => {
    const notJson = await open({ invalid: "close" });
    notJson.sendText("nope");
    await notJson.settled();
    expect(notJson.closedByServer).toEqual({ code: 1007, reason: "Invalid JSON" });
    expect(notJson.closeCalled).toBe(true);
    const wrong = await open({ invalid: "close" });
    wrong.sendText('{"type":"shout"}');
    await wrong.settled();
    expect(wrong.closedByServer).toEqual({ code: 1008, reason: "Invalid message" });
  });

  it("awaits a schema that validates asynchronously, keeping the order", async () => {
    const slow: StandardSchemaV1<unknown, Say> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: async (value) => {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
          return Say["~standard"].validate(value) as StandardSchemaV1.Result<Say>;
        },
      },
    };
    const socket = await open({}, slow);
    for (let i = 0; i < 5; i++) socket.sendText(JSON.stringify({ type: "say", text: `m${i}` }));
    await socket.settled();
    expect(socket.texts()).toEqual([0, 1, 2, 3, 4].map((i) => `{"echo":"m${i}"}`));
  });

  it("carries the notices its handler opts into: a rate_limited frame reaches it raw, in its place", async () => {
    const seen: string[] = [];
    const rated = (state: number, message: JsonMessage<Say, never, RateLimited>) => {
      if (message.type === "json") seen.push(message.value.text);
      if (message.type === "rate_limited") seen.push(`limited:${message.message.type === "text" ? message.message.text : ""}`);
      return continueConnection(state + 1);
    };
    // Bound first: inside the options' literal, TypeScript cannot infer the notices of a generic call.
    const onRated = jsonMessages(Say, rated);
    const socket = await connect<number>(
      upgradeWebSocket(upgradeRequest(), {
        dependencies: null,
        onInit: (): [number] => [0],
        onMessage: onRated,
        onClose: () => {},
        rateLimit: { messagesPerSecond: 1, messageBurst: 1, exceeded: "message" },
      }),
    );
    socket.sendText(JSON.stringify({ type: "say", text: "a" }));
    socket.sendText("b");
    await socket.settled();
    expect(seen).toEqual(["a", "limited:b"]);
    // Without the notice in its type, jsonMessages' handler cannot take exceeded: "message".
    const onPlain = jsonMessages(Say, onMessage);
    upgradeWebSocket(upgradeRequest(), {
      dependencies: null,
      onInit: (): [number] => [0],
      onMessage: onPlain,
      onClose: () => {},
      // @ts-expect-error: onMessage takes JsonMessage<Say, never>, without the rate_limited notice.
      rateLimit: { messagesPerSecond: 1, exceeded: "message" },
    });
  });

  it("accepts any Standard Schema and infers its output type", () => {
    expectTypeOf<typeof Say>().toExtend<StandardSchemaV1>();
    expectTypeOf<Spec<unknown, Say>>().toExtend<StandardSchemaV1<unknown, Say>>();
    expectTypeOf<StandardSchemaV1.InferOutput<typeof Say>>().toEqualTypeOf<Say>();
  });
});

describe("sendJson", () => {
  it("sends JSON text and throws on a value JSON cannot represent", async () => {
    const { socket, connection } = await openKeepingConnection();
    expect(sendJson(connection, { a: [1, "b"] }).ok).toBe(true);
    expect(socket.texts()).toEqual(['{"a":[1,"b"]}']);
    expect(() => sendJson(connection, undefined)).toThrow(TypeError);
  });
});
