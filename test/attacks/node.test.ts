import { defineAttackSuite } from "./suite.ts";

defineAttackSuite("node");
