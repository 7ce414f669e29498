// A worker thread does not inherit its parent's tsx loader: for a TypeScript entry, register
// it, then load the entry the parent named. A built entry (.js) needs no loader.
import { workerData } from "node:worker_threads";

if (workerData.entry.endsWith(".ts")) {
  const { register } = await import("tsx/esm/api");
  register();
}
await import(workerData.entry);
