import { serve } from "../../src/adapters/node.ts"; // in your project: "wsloop/node"
import { main } from "../shared/main.ts";

await main(serve);
