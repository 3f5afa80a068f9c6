// The chat room of Dream's websocket_chat example: everyone in a room sees every message.
// Every frame the server sends is JSON {"type": "joined" | "message" | "left" | "notice", "user", "text"};
// a "notice" (user "") tells this member alone that its message did not reach the room.
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

type Frame = { type: "joined" | "message" | "left" | "notice"; user: string; text: string };

/** What a member is told when the broker could not take its message (Redis away, say). */
export const NOT_DELIVERED = "message not delivered, try again";

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

/**
 * Publishes `frame`; if the broker refuses it (Redis unreachable), tells this member instead of
 * letting the error close its socket with 1011. The member stays, and can send again.
 */
async function publishOrNotify(connection: Connection, deps: RoomDependencies, frame: Frame): Promise<void> {
  try {
    await publish(deps, frame);
  } catch (error) {
    console.error(`[chat] ${deps.room}: ${error instanceof Error ? error.message : String(error)}`);
    sendText(connection, JSON.stringify({ type: "notice", user: "", text: NOT_DELIVERED } satisfies Frame));
  }
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
      await publishOrNotify(connection, deps, { type: "message", user: deps.user, text: message.text });
      return continueConnection(state);
    case "custom":
      if (message.value.kind === "arrived")
        await publishOrNotify(connection, deps, { type: "joined", user: deps.user, text: "" });
      else sendText(connection, message.value.frame);
      return continueConnection(state);
    case "closed":
      return stopConnection();
    case "binary":
      return continueConnection(state);
  }
}

export async function handleRoomClose(_state: null, deps: RoomDependencies): Promise<void> {
  // Nobody is left to tell if the broker refuses this one: the others miss a "left", that is all.
  await publish(deps, { type: "left", user: deps.user, text: "" }).catch((error: unknown) =>
    console.error(`[chat] ${deps.room}: ${error instanceof Error ? error.message : String(error)}`),
  );
}
