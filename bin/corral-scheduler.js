#!/usr/bin/env -S node --conditions=corral-built
// corral-scheduler from the built output (npm run build): plain node, no TypeScript at run time.
// The corral-built condition makes every @corral/* package resolve to its dist/.
if (!process.execArgv.some((flag) => /^(--conditions|-C)(=corral-built)?$/.test(flag)) && !process.execArgv.includes("corral-built")) {
  process.stderr.write("corral-scheduler: run it as an executable, or with node --conditions=corral-built; from a source checkout without a build: node --import tsx services/scheduler/src/main.ts\n");
  process.exit(2);
}
await import("../services/scheduler/dist/src/main.js");
