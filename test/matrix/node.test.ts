import { defineMatrix } from "./cases.ts";

defineMatrix("node");
