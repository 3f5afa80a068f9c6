// Session.start(restored): the entry a Durable Object's woken loop goes through (no workerd needed).
import { expect, it } from "vitest";
import { hibernate } from "../../src/cloudflare.ts";
import type { Transport } from "../../src/core/connection.ts";
import { Session } from "../../src/core/session.ts";
import { takeUpgrade } from "../../src/core/upgrade.ts";
import {
  continueConnection,
  createSubject,
  type Message,
  type RateLimited,
  sendText,
  stopConnection,
  upgradeWebSocket,
} from "../../src/index.ts";
import { upgradeRequest } from "../../src/testing.ts";

it("goes on with the given state and selector, without onInit, and runs onClose once with the last state", async () => {
  const news = createSubject<string>();
  const calls: string[] = [];
  const sent: string[] = [];
  const request = upgradeRequest("http://localhost/ws");
  const response = upgradeWebSocket(request, {
    dependencies: null,
    onInit: () => {
      calls.push("init");
      return [0] as const;
    },
    onMessage: (state: number, message: Message<string>, connection) => {
      if (message.type === "closed") return stopConnection();
      sendText(connection, `${message.type === "custom" ? message.value : "frame"}:${state + 1}`);
      return continueConnection(state + 1);
    },
    onClose: (state: number) => {
      calls.push(`close:${state}`);
    },
  });
  const pending = takeUpgrade(request, response);
  if (!pending) throw new Error("no upgrade");
  const transport: Transport = { send: (data) => sent.push(String(data)) > 0, close() {}, terminate() {}, bufferedAmount: 0 };
  const session = new Session(pending, transport);
  session.start([41, news.selector]);
  session.start(); // a second start changes nothing
  news.send("news");
  await session.whenIdle();
  session.text("hi");
  session.closed(1000, "");
  await session.finished;
  expect(sent).toEqual(["news:42", "frame:43"]);
  expect(calls).toEqual(["close:43"]);
  expect(news.subscriberCount).toBe(0);
});

it('hibernate() keeps the notices its handler opts into (rateLimit with exceeded: "message")', () => {
  const onMessage = (state: number, message: Message<never, RateLimited>) =>
    message.type === "rate_limited" ? continueConnection(state) : continueConnection(state + 1);
  const options = hibernate(
    {
      dependencies: null,
      onInit: (): [number] => [0],
      onMessage,
      onClose: () => {},
      rateLimit: { messagesPerSecond: 10, exceeded: "message" },
    },
    { serialize: (state) => state, deserialize: (data) => Number(data) },
  );
  expect(upgradeWebSocket(upgradeRequest(), options).status).toBe(426);
});
