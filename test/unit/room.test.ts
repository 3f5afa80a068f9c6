// The example chat room when its broker refuses a publish (Redis unreachable): the member is told,
// and stays connected, instead of being closed with 1011.
import { describe, expect, it } from "vitest";
import {
  handleRoomClose,
  handleRoomInit,
  handleRoomMessage,
  NOT_DELIVERED,
  type RoomDependencies,
} from "../../examples/shared/room.ts";
import { type Broker, createMemoryBroker, type Payload, upgradeWebSocket } from "../../src/index.ts";
import { connect, upgradeRequest } from "../../src/testing.ts";

/** The memory broker, except that publish rejects while `down` is true, as wsloop/redis does. */
function flakyBroker(): Broker & { down: boolean } {
  const inner = createMemoryBroker();
  const broker = Object.create(inner) as Broker & { down: boolean };
  broker.down = false;
  broker.publish = (topic: string, payload: Payload) =>
    broker.down
      ? Promise.reject(new Error(`wsloop/redis: could not publish to topic "${topic}": Redis is unreachable, reconnecting`))
      : inner.publish(topic, payload);
  return broker;
}

const notice = JSON.stringify({ type: "notice", user: "", text: NOT_DELIVERED });
const frame = (type: string, user: string, text = "") => JSON.stringify({ type, user, text });

async function join(broker: Broker, user: string) {
  const dependencies: RoomDependencies = { broker, room: "lobby", user };
  const request = upgradeRequest("http://localhost/chat", { headers: { host: "localhost" } });
  const socket = await connect(
    upgradeWebSocket(request, { dependencies, onInit: handleRoomInit, onMessage: handleRoomMessage, onClose: handleRoomClose }),
    request,
  );
  await socket.settled();
  return socket;
}

describe("example chat room, broker unreachable", () => {
  it("answers a message it could not publish with a notice and keeps the socket open", async () => {
    const broker = flakyBroker();
    const ann = await join(broker, "Ann");
    expect(ann.texts()).toEqual([frame("joined", "Ann")]);
    broker.down = true;
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      ann.sendText("lost");
      await ann.settled();
    } finally {
      console.error = original;
    }
    expect(ann.closedByServer).toBeUndefined();
    expect(ann.texts()).toEqual([frame("joined", "Ann"), notice]);
    expect(errors).toHaveLength(1);
    // Back up: the same socket sends again, and the room gets it.
    broker.down = false;
    ann.sendText("again");
    await ann.settled();
    expect(ann.texts().at(-1)).toBe(frame("message", "Ann", "again"));
    ann.close();
    await ann.settled();
    expect(ann.closeCalled).toBe(true);
  });

  it("tells a newcomer whose arrival was not published, and closes quietly while the broker is down", async () => {
    const broker = flakyBroker();
    broker.down = true;
    const original = console.error;
    console.error = () => {};
    try {
      const bob = await join(broker, "Bob");
      expect(bob.texts()).toEqual([notice]);
      expect(bob.closedByServer).toBeUndefined();
      bob.close();
      await bob.settled();
      expect(bob.closeCalled).toBe(true);
    } finally {
      console.error = original;
    }
  });
});
