import { Worker } from "node:worker_threads";

const BOOTSTRAP = new URL("./typescript-worker-bootstrap.mjs", import.meta.url);

/**
 * The module named `name` beside the one at `url`, in the same form: `.ts` when services
 * run from source through tsx, `.js` when they run built.
 */
export function siblingModule(name: string, url: string): URL {
  return new URL(`./${name}${url.endsWith(".ts") ? ".ts" : ".js"}`, url);
}

/**
 * Starts a worker thread running a module of ours, TypeScript or built (services run from
 * source through tsx, which workers do not inherit). The module reads its data from
 * `workerData.data`.
 */
export function startTypeScriptWorker(entry: URL, data: unknown): Worker {
  return new Worker(BOOTSTRAP, { workerData: { entry: entry.href, data } });
}
