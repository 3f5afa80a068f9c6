import { defineMatrix } from "./cases.ts";
import { defineClientCases } from "./client-cases.ts";

defineMatrix("deno");
defineClientCases("deno");
