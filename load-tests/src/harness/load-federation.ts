import { cpuSecondsOf } from "./process-cpu.js";
import { GatewayClient } from "@corral/client";
import { masterStats, subjects, taskChanges, type ApiErrorBody, type CellSummary, type FederatedJobView } from "@corral/contracts";
import { callRpc, connectNats, createLogger, subscribeEvents, type NatsConnection } from "@corral/kit";
import { adminTokenOf, operatorNatsOptions, restartProcess, signalGroup, startLocalCell, stopStartedCell, writeCellFile, type CellFile, type CellOptions } from "@corral/launcher";
import { testDir } from "@corral/testkit";
import { LOAD_USER, refuseHosts, TaskTimeline } from "./load-cell.js";
import { trackLiveCell, untrackLiveCell } from "./live-cells.js";

export interface FederationSettings {
  cells: string[];
  gateways: number;
  masters: number;
  hollow: { processes: number; machinesEach: number };
  cellDownAfterMs: number;
  heartbeatMs: number;
  downAfterMs: number;
  leaseTtlMs: number;
}

/**
 * A local federation for a benchmark: one nats-server, and per cell its own Redis,
 * masters, scheduler and hollow borglets, behind several gateways. Follows each cell's
 * committed task changes (one timeline per cell) and talks to the gateways over HTTP.
 */
export class LoadFederation {
  /** each cell's committed task changes, as its leader published them */
  readonly timelines = new Map<string, TaskTimeline>();
  private listeners: (() => void)[] = [];

  private constructor(
    readonly cell: CellFile,
    readonly nc: NatsConnection,
  ) {
    trackLiveCell(this);
  }

  static async start(label: string, settings: FederationSettings): Promise<LoadFederation> {
    refuseHosts(`${label} runs a federation of cells, each on this machine`);
    const dir = testDir(`load-${label}`);
    process.stderr.write(`  federation directory ${dir} (the federation stops with this run, however it ends)\n`);
    const options: CellOptions = { ...settings, dir, dieWithStarter: true, admin: LOAD_USER, onProgress: (m) => process.stderr.write(`  ${m}\n`) };
    const cell = await startLocalCell(options);
    const log = createLogger("load-test", cell.cell);
    const nc = await connectNats(cell.nats, "load-test", log, operatorNatsOptions(cell)).catch(async (error: unknown) => {
      await stopStartedCell(cell, 2000);
      throw error;
    });
    const federation = new LoadFederation(cell, nc);
    for (const name of settings.cells) {
      const timeline = new TaskTimeline();
      federation.timelines.set(name, timeline);
      subscribeEvents(nc, subjects.taskEvents(name), taskChanges, name, log, ({ body }) => {
        const at = Date.now();
        for (const change of body.changes) timeline.record(change.taskId, change.incarnation, change.state, change.node, at);
        for (const listener of federation.listeners) listener();
      });
    }
    return federation;
  }

  get gateways(): string[] {
    return this.cell.gateways ?? [this.cell.gateway];
  }

  /** Called after every batch of committed task changes of any cell. */
  onChange(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }

  /** Tasks running in each cell by its leader's committed changes (a dead leader's cell keeps its last count). */
  runningByEvents(): Record<string, number> {
    return Object.fromEntries([...this.timelines].map(([cell, timeline]) => [cell, timeline.runningCount]));
  }

  /** Gateway `index` of the federation, as the load user. */
  private gateway(index: number): GatewayClient {
    const url = this.gateways[index];
    if (url === undefined) throw new Error(`no gateway ${index}; this federation has ${this.gateways.length}`);
    return new GatewayClient(url, { token: adminTokenOf(this.cell), timeoutMs: 15_000 });
  }

  async submit(source: string, gateway = 0): Promise<{ status: number; job?: FederatedJobView; error?: string }> {
    const reply = await this.gateway(gateway).send<{ job?: FederatedJobView } & Partial<ApiErrorBody>>("POST", "/v1/jobs", { source, format: "borg", file: "load.borg" });
    return reply.status === 201 && reply.body.job !== undefined ? { status: 201, job: reply.body.job } : { status: reply.status, error: reply.body.error?.message ?? "?" };
  }

  /** The federated job as a gateway shows it, and how long the gateway took to answer. */
  async view(id: string, gateway = 0): Promise<{ job: FederatedJobView; ms: number; bytes: number }> {
    const sent = performance.now();
    const { job, bytes } = await this.gateway(gateway).federatedJob(id);
    return { job, ms: performance.now() - sent, bytes };
  }

  cells(gateway = 0): Promise<{ cells: CellSummary[]; reconciler: string | null }> {
    return this.gateway(gateway).cells();
  }

  leaderStats(cell: string, retryForMs = 60_000) {
    return callRpc(this.nc, subjects.api(cell, "stats"), masterStats, cell, { collectGarbage: false }, { timeoutMs: 10_000, retryForMs, idempotent: true });
  }

  processNames(prefix: string): string[] {
    return this.cell.processes.filter((p) => p.name.startsWith(prefix)).map((p) => p.name);
  }

  kill9(name: string): void {
    const found = this.cell.processes.find((p) => p.name === name);
    if (found === undefined || !signalGroup(found, "SIGKILL")) throw new Error(`${name} is not running`);
  }

  /** Starts a killed process again as it was (same arguments, same log). */
  async restart(name: string): Promise<void> {
    const index = this.cell.processes.findIndex((p) => p.name === name);
    if (index < 0) throw new Error(`no process ${name}`);
    // Recorded once spawned, before a server answers, so the watchdog knows of it meanwhile.
    await restartProcess(this.cell.processes[index]!, (started) => {
      this.cell.processes[index] = started;
      writeCellFile(this.cell);
    });
  }

  /** CPU seconds each process of the federation has used so far (from /proc), and this load generator's. */
  cpuSecondsByProcess(): Record<string, number> {
    return cpuSecondsOf(this.cell.processes);
  }

  /** A counter or gauge from a process's Prometheus /metrics (summed over its label sets), or NaN. */
  async metric(processName: string, metric: string): Promise<number> {
    const found = this.cell.processes.find((p) => p.name === processName);
    const flag = found?.args.indexOf("--metrics-port") ?? -1;
    if (found === undefined || flag < 0) return Number.NaN;
    try {
      const text = await (await fetch(`http://127.0.0.1:${found.args[flag + 1]}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      const lines = text.split("\n").filter((line) => line.startsWith(`${metric} `) || line.startsWith(`${metric}{`));
      return lines.length === 0 ? Number.NaN : lines.reduce((total, line) => total + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
    } catch {
      return Number.NaN;
    }
  }

  async stop(): Promise<void> {
    await this.nc.drain().catch(() => {});
    await stopStartedCell(this.cell, 2000);
    untrackLiveCell(this);
  }
}
