import { defineAttackSuite } from "./suite.ts";

defineAttackSuite("bun");
