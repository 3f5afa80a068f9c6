import { defineAttackSuite } from "./suite.ts";

defineAttackSuite("deno");
