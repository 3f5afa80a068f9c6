import { defineMatrix } from "./cases.ts";

defineMatrix("deno");
