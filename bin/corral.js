#!/usr/bin/env -S node --conditions=corral-built
// corral from the built output (npm run build): plain node, no TypeScript at run time. A cell
// it starts runs built services too. From a checkout without a build, the source runner
// services/cli/bin/corral.js does the same through tsx.
import { existsSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";
import { requireBuiltCondition } from "./built-service.js";

requireBuiltCondition("corral", "node services/cli/bin/corral.js");
const main = new URL("../services/cli/dist/src/main.js", import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write("corral: not built yet: run npm run build (or, from a checkout, node services/cli/bin/corral.js runs the source)\n");
  process.exit(2);
}
await import(main.href);
