import { defineMatrix } from "./cases.ts";
import { defineClientCases } from "./client-cases.ts";

defineMatrix("bun");
defineClientCases("bun");
