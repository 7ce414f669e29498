import { cpuSecondsOf } from "./process-cpu.js";
import { readFileSync } from "node:fs";
import { ApiError, GatewayClient } from "@corral/client";
import { masterStats, subjects, taskChanges, type ApiErrorBody, type JobView } from "@corral/contracts";
import { callRpc, connectNats, createLogger, subscribeEvents, type Logger, type NatsConnection } from "@corral/kit";
import { adminTokenOf, admitNatsClients, cellCaOf, HostNetwork, operatorNatsOptions, startLocalCell, stopStartedCell, signalGroup, startHollowBorglet, writeCellFile, waitUntil, type CellFile, type CellOptions } from "@corral/launcher";
import { testDir } from "@corral/testkit";
import { trackLiveCell, untrackLiveCell } from "./live-cells.js";

export const LOAD_USER = "loadtest";

/** The hosts of the multi-host cell every LoadCell of this run starts on (`--hosts`); none: one host. */
let runHosts: number | undefined;
/** Whether its servers speak TLS (`--tls on|off`); undefined: the launcher's default (on with hosts, off without). */
let runTls: boolean | undefined;

export function runOnHosts(hosts: number | undefined, tls?: boolean): void {
  runHosts = hosts;
  runTls = tls;
}

export function refuseHosts(what: string): void {
  if (runHosts !== undefined) throw new Error(`--hosts: ${what}; the scenarios on hollow fleets (failover, machine-failure, latency, throughput, churn, steady, scale) take --hosts`);
}

/** When each task was last seen entering each state, from the leader's committed changes. */
export class TaskTimeline {
  readonly firstSeen = new Map<string, Map<string, number>>();
  readonly lastState = new Map<string, { state: string; node?: string; at: number; incarnation: number }>();
  runningCount = 0;
  /** tasks committed as running on a second machine while still running on the first */
  runningOnTwoMachines = 0;
  private listeners: (() => void)[] = [];

  record(taskId: string, incarnation: number, state: string, node: string | undefined, at: number): void {
    let states = this.firstSeen.get(taskId);
    if (states === undefined) this.firstSeen.set(taskId, (states = new Map()));
    const key = `${state}#${incarnation}`;
    if (!states.has(key)) states.set(key, at);
    const previous = this.lastState.get(taskId);
    if (previous?.state === "running" && state === "running" && previous.node !== node) this.runningOnTwoMachines += 1;
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

export interface MachineMemory {
  /** the leader's heap growth per registered machine */
  masterBytesPerMachine: number;
  /** what one simulated machine costs its hollow borglet, as each reports it */
  hollowBytesPerMachine: number;
}

/**
 * A local cell for a benchmark (hollow machines, or real borglets), with a NATS connection
 * that follows the leader's committed task changes, and the leader's own measurements. It
 * dies with the load run: stopped on SIGINT or SIGTERM (live-cells.ts), by its watchdog if
 * the run is killed outright.
 */
export class LoadCell {
  readonly timeline = new TaskTimeline();
  machineMemory: MachineMemory = { masterBytesPerMachine: Number.NaN, hollowBytesPerMachine: Number.NaN };
  private client: GatewayClient | undefined;

  private constructor(
    readonly cell: CellFile,
    readonly nc: NatsConnection,
  ) {
    trackLiveCell(this);
  }

  /**
   * Starts the cell without machines, measures the leader, then starts the hollow
   * borglets and measures again, so memory per machine is known for every run.
   */
  static async start(label: string, options: Partial<CellOptions> & { hollow: NonNullable<CellOptions["hollow"]> }): Promise<LoadCell> {
    const dir = testDir(`load-${label}`);
    process.stderr.write(`  cell directory ${dir} (the cell stops with this run, however it ends)\n`);
    const settings = { masters: 3, heartbeatMs: 2000, downAfterMs: 6000, ...options };
    const hosts = { ...(runHosts === undefined ? {} : { hosts: runHosts }), ...(runTls === undefined ? {} : { tls: runTls }) };
    const cell = await startLocalCell({ ...settings, ...hosts, hollow: { processes: 0, machinesEach: 0 }, dir, dieWithStarter: true, admin: LOAD_USER, onProgress: (m) => process.stderr.write(`  ${m}\n`) });
    const log = createLogger("load-test", cell.cell);
    const nc = await connectNats(cell.nats, "load-test", log, operatorNatsOptions(cell)).catch(async (error: unknown) => {
      await stopStartedCell(cell, 2000);
      throw error;
    });
    const loadCell = new LoadCell(cell, nc);
    try {
      await loadCell.addHollowMachines(options.hollow, settings);
    } catch (error) {
      await loadCell.stop(); // never leave a half-started cell behind
      throw error;
    }
    loadCell.follow(log);
    return loadCell;
  }

  /**
   * A local cell of real borglets (tasks are real processes, or containers for jobs with an
   * image), all on this host, each with its own data directory and port range.
   */
  static async startReal(label: string, options: Partial<CellOptions> & { borglets: number }): Promise<LoadCell> {
    refuseHosts(`${label} runs real borglets side by side on this machine`);
    const dir = testDir(`load-${label}`);
    process.stderr.write(`  cell directory ${dir} (the cell stops with this run, however it ends)\n`);
    const cell = await startLocalCell({ masters: 3, heartbeatMs: 1000, downAfterMs: 6000, ...options, dir, dieWithStarter: true, admin: LOAD_USER, onProgress: (m) => process.stderr.write(`  ${m}\n`) });
    const log = createLogger("load-test", cell.cell);
    const nc = await connectNats(cell.nats, "load-test", log, operatorNatsOptions(cell)).catch(async (error: unknown) => {
      await stopStartedCell(cell, 2000);
      throw error;
    });
    const loadCell = new LoadCell(cell, nc);
    loadCell.follow(log);
    return loadCell;
  }

  /** Records the leader's committed task changes in the timeline as they arrive. */
  private follow(log: Logger): void {
    subscribeEvents(this.nc, subjects.taskEvents(this.cell.cell), taskChanges, this.cell.cell, log, ({ body }) => {
      const at = Date.now();
      for (const change of body.changes) this.timeline.record(change.taskId, change.incarnation, change.state, change.node, at);
    });
  }

  /** Starts the hollow borglets and measures memory per machine: the leader's before and after, and each borglet's own report. */
  private async addHollowMachines(hollow: NonNullable<CellOptions["hollow"]>, settings: Pick<CellOptions, "heartbeatMs">): Promise<void> {
    const machines = hollow.processes * hollow.machinesEach;
    const empty = await this.masterStats(true);
    // On a multi-host cell, hollow-i runs on host i mod N.
    const network = this.network;
    const names = Array.from({ length: hollow.processes }, (_, i) => `hollow-${i}`);
    await admitNatsClients(this.cell, names.map((name) => ({ name, grant: { role: "hollow", cell: this.cell.cell } })));
    const signIn = { natsAuth: this.cell.natsAuth!, leaderKey: this.cell.leaderKey! };
    for (let i = 0; i < hollow.processes; i++) {
      const on = network === undefined ? {} : { on: network.placement(network.hosts[i % network.hosts.length]!) };
      this.cell.processes.push(startHollowBorglet({ ...this.cell, ...signIn }, i, hollow.machinesEach, { ...settings, ...on, name: names[i]! }));
    }
    writeCellFile(this.cell);
    process.stderr.write(`  ${hollow.processes} hollow borglets with ${machines} machines started; waiting for them to register\n`);
    await waitUntil(`${machines} machines registered`, async () => (await this.masterStats(false)).machines >= machines, 300_000, 500);
    const full = await this.masterStats(true);
    const hollowReports = this.cell.processes
      .filter((p) => p.name.startsWith("hollow-"))
      .flatMap((p) => [...readFileSync(p.log, "utf8").matchAll(/"bytesPerMachine":(\d+)/g)].map((m) => Number(m[1])));
    this.machineMemory = {
      masterBytesPerMachine: Math.round((full.heapUsedBytes - empty.heapUsedBytes) / Math.max(1, machines)),
      hollowBytesPerMachine: hollowReports.length === 0 ? Number.NaN : Math.round(hollowReports.reduce((a, b) => a + b, 0) / hollowReports.length),
    };
  }


  /** The gateway, as the load user (the cell's admin); a reply's status is kept, since scenarios count refusals. */
  get gateway(): GatewayClient {
    this.client ??= new GatewayClient(this.cell.gateway, { token: adminTokenOf(this.cell), timeoutMs: 60_000, ca: cellCaOf(this.cell) });
    return this.client;
  }

  async submit(source: string): Promise<{ status: number; job?: JobView; error?: string }> {
    const reply = await this.gateway.send<{ job?: JobView } & Partial<ApiErrorBody>>("POST", "/v1/jobs", { source, format: "borg", file: "load.borg" });
    return reply.status === 201 && reply.body.job !== undefined ? { status: 201, job: reply.body.job } : { status: reply.status, error: reply.body.error?.message ?? "?" };
  }

  /** Kills a job; `grace` (like `5s` or `0s`) replaces the job's own grace period for this stop. */
  async kill(jobId: string, grace?: string): Promise<number> {
    const query = grace === undefined ? "" : `?grace=${encodeURIComponent(grace)}`;
    return (await this.gateway.send("DELETE", `/v1/jobs/${jobId}${query}`)).status;
  }

  /** The job as the gateway shows it (tasks with their hosts, ports and pids), or undefined once it is gone. */
  async job(jobId: string): Promise<JobView | undefined> {
    try {
      return (await this.gateway.job(jobId)).job;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  masterStats(collectGarbage: boolean) {
    return callRpc(this.nc, subjects.api(this.cell.cell, "stats"), masterStats, this.cell.cell, { collectGarbage }, { timeoutMs: 10_000, retryForMs: 60_000, idempotent: true });
  }

  /** CPU seconds each process of the cell has used so far (from /proc), and this load generator's. */
  cpuSecondsByProcess(): Record<string, number> {
    return cpuSecondsOf(this.cell.processes);
  }

  /** A multi-host cell's hosts; undefined on one host. */
  get network(): HostNetwork | undefined {
    return this.cell.network === undefined ? undefined : HostNetwork.fromRecord(this.cell.network);
  }

  kill9(name: string): void {
    const process = this.cell.processes.find((p) => p.name === name);
    if (process === undefined || !signalGroup(process, "SIGKILL")) throw new Error(`${name} is not running`);
  }

  async stop(): Promise<void> {
    await this.nc.drain().catch(() => {});
    await stopStartedCell(this.cell, 2000);
    untrackLiveCell(this);
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
