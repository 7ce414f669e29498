#!/usr/bin/env -S node --conditions=corral-built
// corral-master from the built output (npm run build): plain node, no TypeScript at run time.
// The corral-built condition makes every @corral/* package resolve to its dist/.
if (!process.execArgv.some((flag) => /^(--conditions|-C)(=corral-built)?$/.test(flag)) && !process.execArgv.includes("corral-built")) {
  process.stderr.write("corral-master: run it as an executable, or with node --conditions=corral-built; from a source checkout without a build: node --import tsx services/master/src/main.ts\n");
  process.exit(2);
}
await import("../services/master/dist/src/main.js");
