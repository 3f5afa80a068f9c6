// `npm run example:cloudflare`: the chat on workerd, locally through miniflare, on $PORT (3000 by
// default). `npx wrangler dev -c examples/cloudflare/wrangler.jsonc` serves the same Worker.
import { portFromEnv } from "../shared/app.ts";
import { startWorkerd } from "./workerd.ts";

const workerd = await startWorkerd(
  "examples/cloudflare/worker.ts",
  { CHAT_ROOMS: "ChatRoom", TOPICS: "WsloopTopic" },
  portFromEnv(process.env.PORT),
);
console.log(`Chat on http://localhost:${new URL(workerd.http).port}/`);
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => void workerd.dispose().then(() => process.exit(0)));
