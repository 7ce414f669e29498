import { Worker } from "node:worker_threads";

const BOOTSTRAP = new URL("./typescript-worker-bootstrap.mjs", import.meta.url);

/**
 * Starts a worker thread running a TypeScript module (services run from source through
 * tsx, which workers do not inherit). The module reads its data from `workerData.data`.
 */
export function startTypeScriptWorker(entry: URL, data: unknown): Worker {
  return new Worker(BOOTSTRAP, { workerData: { entry: entry.href, data } });
}
