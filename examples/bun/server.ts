import { serve } from "../../src/adapters/bun.ts"; // in your project: "wsloop/bun"
import { main } from "../shared/main.ts";

await main(serve);
