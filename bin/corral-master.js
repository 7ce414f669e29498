#!/usr/bin/env -S node --conditions=corral-built
// corral-master from the built output (npm run build): plain node, no TypeScript at run time.
// The corral-built condition makes every @corral/* package resolve to its dist/.
import { runBuiltService } from "./built-service.js";

await runBuiltService("master");
