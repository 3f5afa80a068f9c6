import { serve } from "../../src/adapters/deno.ts"; // in your project: "wsloop/deno"
import { main } from "../shared/main.ts";

await main(serve);
