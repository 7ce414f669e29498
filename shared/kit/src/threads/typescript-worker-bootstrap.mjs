// A worker thread does not inherit its parent's tsx loader: register it, then load the
// TypeScript entry the parent named.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
