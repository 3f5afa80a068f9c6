// The chat room of Dream's websocket_chat example: everyone in a room sees every message.
// Every frame the server sends is JSON {"type": "joined" | "message" | "left", "user", "text"}.
import {
  type Action,
  type Broker,
  type Connection,
  continueConnection,
  type Message,
  mapSelector,
  mergeSelectors,
  type Selector,
  sendText,
  stopConnection,
} from "../../src/index.ts";

export interface RoomDependencies {
  broker: Broker;
  room: string;
  user: string;
}

/** What reaches a member's loop besides its own socket's frames. */
export type RoomEvent = { kind: "arrived" } | { kind: "frame"; frame: string };

type Frame = { type: "joined" | "message" | "left"; user: string; text: string };

/** Delivers one "arrived" as soon as the loop subscribes: the member then announces itself. */
const arrived: Selector<RoomEvent> = {
  subscribe(deliver) {
    deliver({ kind: "arrived" });
    return () => {};
  },
};

const topicOf = (room: string) => `room:${room}`;
const toEvent = (payload: string | Uint8Array): RoomEvent => ({ kind: "frame", frame: String(payload) });

function publish(deps: RoomDependencies, frame: Frame): Promise<void> {
  return deps.broker.publish(topicOf(deps.room), JSON.stringify(frame));
}

export function handleRoomInit(_connection: Connection, deps: RoomDependencies): [null, Selector<RoomEvent>] {
  // The room's topic is subscribed before "arrived" is handled, so the newcomer sees its own "joined".
  return [null, mergeSelectors(mapSelector(deps.broker.topic(topicOf(deps.room)), toEvent), arrived)];
}

export async function handleRoomMessage(
  state: null,
  message: Message<RoomEvent>,
  connection: Connection,
  deps: RoomDependencies,
): Promise<Action<null, RoomEvent>> {
  switch (message.type) {
    case "text":
      await publish(deps, { type: "message", user: deps.user, text: message.text });
      return continueConnection(state);
    case "custom":
      if (message.value.kind === "arrived") await publish(deps, { type: "joined", user: deps.user, text: "" });
      else sendText(connection, message.value.frame);
      return continueConnection(state);
    case "closed":
      return stopConnection();
    case "binary":
      return continueConnection(state);
  }
}

export async function handleRoomClose(_state: null, deps: RoomDependencies): Promise<void> {
  await publish(deps, { type: "left", user: deps.user, text: "" });
}
