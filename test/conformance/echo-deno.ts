import { serve } from "../../src/adapters/deno.ts";
import { runEcho } from "./app.ts";

await runEcho(serve);
