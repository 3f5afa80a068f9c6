import { serve } from "../../src/adapters/bun.ts";
import { MAX_MESSAGE_SIZE, runEcho } from "./app.ts";

// Bun reads messages up to its server-wide maxPayloadLength (16 MiB by default) before wsloop does.
await runEcho((options) => serve({ ...options, maxPayloadLength: MAX_MESSAGE_SIZE }));
