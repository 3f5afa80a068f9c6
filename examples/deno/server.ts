import { serve } from "../../src/adapters/deno.ts"; // in your project: "jsr:@wsloop/wsloop/deno"
import { main } from "../shared/main.ts";

await main(serve);
