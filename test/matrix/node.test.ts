import { defineMatrix } from "./cases.ts";
import { defineClientCases } from "./client-cases.ts";

defineMatrix("node");
defineClientCases("node");
