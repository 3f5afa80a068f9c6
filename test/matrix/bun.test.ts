import { defineMatrix } from "./cases.ts";

defineMatrix("bun");
