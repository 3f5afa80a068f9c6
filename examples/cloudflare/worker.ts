// The examples' chat on Cloudflare Workers: the same app as examples/node, bun and deno.
// The Worker serves the page and the echo chat; each room lives in a Durable Object (ChatRoom,
// one per room name), whose members' loops share its memory; the rooms' messages go through
// the Durable Object broker (one WsloopTopic object per topic), so anything anywhere may publish
// to a room. In your project the import is `from "wsloop/cloudflare"`.

import scripts from "wsloop-example:page-scripts";
import {
  createDurableBroker,
  createWorkerHandler,
  DurableLoops,
  type DurableObjectContext,
  type TopicNamespace,
} from "../../src/cloudflare.ts";
import { createMemoryBroker } from "../../src/index.ts";
import { createApp } from "../shared/app.ts";

export { WsloopTopic } from "../../src/cloudflare.ts";

interface Env {
  CHAT_ROOMS: { idFromName(name: string): unknown; get(id: unknown): { fetch(request: Request): Promise<Response> } };
  TOPICS: TopicNamespace;
}

/** One room's members: the app's room endpoint, served from this object. */
export class ChatRoom extends DurableLoops {
  constructor(ctx: DurableObjectContext, env: Env) {
    super(ctx, createApp({ broker: createDurableBroker(env.TOPICS) }));
  }
}

// The page and the echo chat need no room: the Worker serves them (its broker is never used).
const worker = createWorkerHandler(createApp({ broker: createMemoryBroker(), scripts }));

export default {
  fetch(request: Request, env: Env, ctx: unknown): Promise<Response> {
    const { pathname } = new URL(request.url);
    const room = pathname === "/chat" ? "lobby" : /^\/chat\/([^/]{1,64})$/.exec(pathname)?.[1];
    if (room !== undefined) return env.CHAT_ROOMS.get(env.CHAT_ROOMS.idFromName(decodeURIComponent(room))).fetch(request);
    return worker(request, env, ctx);
  },
};
