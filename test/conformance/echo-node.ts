import { serve } from "../../src/adapters/node.ts";
import { runEcho } from "./app.ts";

await runEcho(serve);
