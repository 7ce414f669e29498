import { masterStats, subjects, taskChanges, type JobView } from "@corral/contracts";
import {
  callRpc,
  connectNats,
  createLogger,
  startLocalCell,
  stopProcesses,
  subscribeEvents,
  signalGroup,
  type CellFile,
  type CellOptions,
  type NatsConnection,
} from "@corral/kit";
import { testDir } from "@corral/testkit";

export const LOAD_USER = "loadtest";

/** When each task was last seen entering each state, from the leader's committed changes. */
export class TaskTimeline {
  readonly firstSeen = new Map<string, Map<string, number>>();
  readonly lastState = new Map<string, { state: string; node?: string; at: number; incarnation: number }>();
  runningCount = 0;
  private listeners: (() => void)[] = [];

  record(taskId: string, incarnation: number, state: string, node: string | undefined, at: number): void {
    let states = this.firstSeen.get(taskId);
    if (states === undefined) this.firstSeen.set(taskId, (states = new Map()));
    const key = `${state}#${incarnation}`;
    if (!states.has(key)) states.set(key, at);
    const previous = this.lastState.get(taskId);
    if (previous?.state === "running") this.runningCount -= 1;
    if (state === "running") this.runningCount += 1;
    this.lastState.set(taskId, node === undefined ? { state, at, incarnation } : { state, node, at, incarnation });
    for (const listener of this.listeners) listener();
  }

  /** Resolves when `condition` holds, checked on every change (and once now). */
  until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (condition()) return resolve();
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve();
      };
      this.listeners.push(check);
    });
  }
}

/**
 * A local cell of hollow machines for a benchmark, with a NATS connection that follows the
 * leader's committed task changes, and the leader's own measurements.
 */
export class LoadCell {
  readonly timeline = new TaskTimeline();

  private constructor(
    readonly cell: CellFile,
    readonly nc: NatsConnection,
  ) {}

  static async start(label: string, options: Partial<CellOptions> & { hollow: NonNullable<CellOptions["hollow"]> }): Promise<LoadCell> {
    const dir = testDir(`load-${label}`);
    const cell = await startLocalCell({ masters: 3, heartbeatMs: 2000, downAfterMs: 6000, ...options, dir, onProgress: (m) => process.stderr.write(`  ${m}\n`) });
    const log = createLogger("load-test", cell.cell);
    const nc = await connectNats(cell.nats, "load-test", log);
    const loadCell = new LoadCell(cell, nc);
    subscribeEvents(nc, subjects.taskEvents(cell.cell), taskChanges, cell.cell, log, ({ body, ts }) => {
      const at = Date.now();
      void ts;
      for (const change of body.changes) loadCell.timeline.record(change.taskId, change.incarnation, change.state, change.node, at);
    });
    return loadCell;
  }

  async submit(yaml: string): Promise<{ status: number; job?: JobView; error?: string }> {
    const response = await fetch(`${this.cell.gateway}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-corral-user": LOAD_USER },
      body: JSON.stringify({ source: yaml, format: "yaml", file: "load.yaml" }),
    });
    const body = (await response.json()) as { job?: JobView; error?: { message: string } };
    return response.status === 201 && body.job !== undefined ? { status: 201, job: body.job } : { status: response.status, error: body.error?.message ?? "?" };
  }

  async kill(jobId: string): Promise<number> {
    const response = await fetch(`${this.cell.gateway}/v1/jobs/${jobId}`, { method: "DELETE", headers: { "x-corral-user": LOAD_USER } });
    await response.arrayBuffer();
    return response.status;
  }

  masterStats(collectGarbage: boolean) {
    return callRpc(this.nc, subjects.api(this.cell.cell, "stats"), masterStats, this.cell.cell, { collectGarbage }, { timeoutMs: 30_000, retryForMs: 10_000 });
  }

  kill9(name: string): void {
    const process = this.cell.processes.find((p) => p.name === name);
    if (process === undefined || !signalGroup(process, "SIGKILL")) throw new Error(`${name} is not running`);
  }

  async stop(): Promise<void> {
    await this.nc.drain().catch(() => {});
    await stopProcesses(this.cell.processes, this.cell.dir, 2000);
  }
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  });
  await Promise.all(workers);
}

/** Samples a value every `everyMs` until stopped, with time since start. */
export function sampler<T>(everyMs: number, take: () => Promise<T> | T): { samples: { t: number; value: T }[]; stop: () => void } {
  const started = Date.now();
  const samples: { t: number; value: T }[] = [];
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    Promise.resolve(take())
      .then((value) => samples.push({ t: (Date.now() - started) / 1000, value }))
      .catch(() => {})
      .finally(() => (busy = false));
  }, everyMs);
  return { samples, stop: () => clearInterval(timer) };
}
