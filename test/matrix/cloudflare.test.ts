import { defineMatrix } from "./cases.ts";

defineMatrix("cloudflare");
