import { CorralError, describeZodError, jobSpecSchema, federatedJobId, federationOf, listNodes, selectorMatches, subjects, type CellSummary, type SelectorTerm, type FederatedJobRecord, type FederatedJobView, type JobSpec } from "@corral/contracts";
import { callRpc, type Logger, type NatsConnection } from "@corral/kit";
import type { Registry } from "prom-client";
import { CellMonitor } from "./cell-monitor.js";
import { FederationMetrics } from "./federation-metrics.js";
import { federatedView, type MemberLookup } from "./federated-view.js";
import { FederationStore } from "./federation-store.js";
import { fetchMember, memberJobId, memberSpec } from "./member-jobs.js";
import { homePlacement, note, rescale } from "./placement.js";
import { FederationReconciler } from "./reconciler.js";

export interface FederationOptions {
  /** the gateway's name: who holds the reconciler lease */
  name: string;
  cells: readonly string[];
  /** a cell whose leader has not answered for this long is down: its share goes elsewhere */
  cellDownAfterMs: number;
  reconcileEveryMs: number;
  leaseTtlMs: number;
  /** copies JetStream keeps of the federation's bucket (--js-replicas) */
  jsReplicas: number;
}

/**
 * The gateway's federation of cells: federated jobs kept in JetStream KV, the cells'
 * health, and the reconciler that places and moves each job's replicas.
 */
export class Federation {
  readonly monitor: CellMonitor;
  private readonly reconciler: FederationReconciler;

  private constructor(
    private readonly nc: NatsConnection,
    readonly store: FederationStore,
    private readonly options: FederationOptions,
    private readonly log: Logger,
    registry?: Registry,
  ) {
    this.monitor = new CellMonitor(nc, options.cells, options.cellDownAfterMs, log, Math.min(1000, options.reconcileEveryMs));
    const metrics = registry === undefined ? undefined : new FederationMetrics(registry, this.monitor);
    this.reconciler = new FederationReconciler(nc, store, this.monitor, options.name, log, { everyMs: options.reconcileEveryMs, leaseTtlMs: options.leaseTtlMs }, metrics);
  }

  static async start(nc: NatsConnection, options: FederationOptions, log: Logger, registry?: Registry): Promise<Federation> {
    const federation = new Federation(nc, await FederationStore.open(nc, log, options.jsReplicas), options, log, registry);
    federation.monitor.start();
    federation.reconciler.start();
    return federation;
  }

  async stop(): Promise<void> {
    this.monitor.stop();
    await this.reconciler.stop();
    this.store.close();
  }

  get cells(): readonly string[] {
    return this.options.cells;
  }

  /** Records the federated job; the reconciler places it. A repeat with the same request id is answered again. */
  async submit(spec: JobSpec, user: string, requestId: string): Promise<FederatedJobView> {
    const policy = federationOf(spec)!;
    const unknown = policy.cells.filter((cell) => !this.options.cells.includes(cell));
    if (unknown.length > 0) {
      throw new CorralError("bad_request", `runtime.cells: ${unknown.join(", ")} ${unknown.length === 1 ? "is not a cell" : "are not cells"} of this federation; it has ${this.options.cells.join(", ")}`, "runtime.cells");
    }
    const id = federatedJobId(spec.name, user);
    const home = homePlacement(spec.replicas, policy);
    const now = Date.now();
    const fresh = (generation: number): FederatedJobRecord => ({
      id,
      name: spec.name,
      user,
      spec: { ...spec, user },
      generation,
      requestId,
      submittedAt: now,
      killed: false,
      home,
      assigned: { ...home },
      refused: {},
      shortSince: {},
      submits: {},
      events: [{ at: now, text: `submitted: ${spec.replicas} replicas, ${policy.policy} over ${policy.cells.map((cell) => `${cell}: ${home[cell]}`).join(", ")}`.slice(0, 1000) }],
    });
    // What each cell will be sent must be a job it can take (the member label counts against
    // the label limit, for one): refused here, not by every cell after a 201.
    const member = jobSpecSchema.safeParse(memberSpec(fresh(0), policy.cells[0]!, 1));
    if (!member.success) {
      const { message, field } = describeZodError(member.error);
      throw new CorralError("bad_request", `as a member job in each cell the spec is refused: ${message}`, field);
    }
    for (let attempt = 0; attempt < 10; attempt++) {
      const existing = await this.store.get(id);
      if (existing === undefined) {
        if ((await this.store.create(fresh(0))) !== undefined) return this.view(id);
        continue;
      }
      if (existing.value.requestId === requestId) {
        // A retry is answered again; the same key on another job is the client's mistake.
        // Compared as stored: read back through the schema, which orders a spec's keys its own way.
        if (JSON.stringify(existing.value.spec) !== JSON.stringify(jobSpecSchema.parse({ ...spec, user }))) {
          throw new CorralError("conflict", `Idempotency-Key ${requestId} was used for another submission of ${id}; use a new key for a new submission`, "Idempotency-Key");
        }
        return this.view(id);
      }
      if (!existing.value.killed) {
        throw new CorralError("conflict", `federated job ${id} exists; kill it first (corral kill ${id}) or choose another name`, "name");
      }
      // Its members must be gone first, or the new job would take them for its own.
      if (existing.value.stoppedAt === undefined) {
        throw new CorralError("conflict", `federated job ${id} was killed and is still stopping in its cells; submit it again once corral ps ${id} shows every task dead`, "name");
      }
      if ((await this.store.update(fresh(existing.value.generation + 1), existing.revision)) !== undefined) return this.view(id);
    }
    throw new CorralError("unavailable", `federated job ${id} is being changed by other gateways; retry`);
  }

  async kill(id: string): Promise<FederatedJobView> {
    const record = await this.store.modify(id, (current) => {
      if (current.killed) return undefined;
      current.killed = true;
      note(current, Date.now(), "killed by user");
      return current;
    });
    if (record === undefined) throw new CorralError("not_found", `no federated job ${id}`, "job");
    return this.view(id);
  }

  /**
   * kubectl scale for a federated job: its replica count changes in the record, with the
   * shares; the reconciler then asks the cells to start or stop their part.
   */
  async scale(id: string, replicas: number): Promise<FederatedJobView> {
    const record = await this.store.modify(id, (current) => {
      if (current.killed) throw new CorralError("conflict", `federated job ${id} is killed; submit it again to run it`, "job");
      return rescale(current, federationOf(current.spec)!, replicas, Date.now());
    });
    if (record === undefined) throw new CorralError("not_found", `no federated job ${id}`, "job");
    return this.view(id);
  }

  /** A live federated job of that id (a killed one no longer claims its short name). */
  async exists(id: string): Promise<boolean> {
    const record = await this.store.get(id);
    return record !== undefined && !record.value.killed;
  }

  /** The job seen through its members now; not_found when there is no such federated job. */
  async view(id: string): Promise<FederatedJobView> {
    const record = await this.store.get(id);
    if (record === undefined) throw new CorralError("not_found", `no federated job ${id}`, "job");
    return federatedView(record.value, await this.membersOf(record.value, new Set()));
  }

  /** Each cell's member of a federated job as the cell shows it now; cells in `unreachable` are not asked. */
  private async membersOf(record: FederatedJobRecord, unreachable: ReadonlySet<string>): Promise<Map<string, MemberLookup>> {
    const members = new Map<string, MemberLookup>();
    await Promise.all(
      (federationOf(record.spec)?.cells ?? []).map(async (cell) => {
        if (unreachable.has(cell)) return members.set(cell, { reachable: false });
        try {
          members.set(cell, { reachable: true, view: await fetchMember(this.nc, cell, memberJobId(record, cell)) });
        } catch {
          members.set(cell, { reachable: false });
        }
      }),
    );
    return members;
  }

  /**
   * Every federated job of the user (all users' without one) that the selector matches, each
   * seen through its members; cells in `unreachable` are not asked.
   */
  async list(user: string | undefined, unreachable: ReadonlySet<string>, selector?: readonly SelectorTerm[]): Promise<FederatedJobView[]> {
    const records = (await this.store.list()).filter(({ value }) => (user === undefined || value.user === user) && (selector === undefined || selectorMatches(selector, value.spec.labels)));
    return Promise.all(records.map(async ({ value }) => federatedView(value, await this.membersOf(value, unreachable))));
  }

  async reconcilerHolder(): Promise<string | undefined> {
    return this.store.leaseHolder();
  }

  /** `corral cells`: each cell's health, machines, capacity and use, and its tasks. */
  async cellSummaries(): Promise<CellSummary[]> {
    return Promise.all(
      this.options.cells.map(async (cell): Promise<CellSummary> => {
        const contact = this.monitor.contact(cell);
        const summary: CellSummary = {
          cell,
          health: this.monitor.health(cell),
          ...(contact.leader === undefined ? {} : { leader: contact.leader }),
          ...(contact.epoch === undefined ? {} : { epoch: contact.epoch }),
          machines: { up: 0, total: 0 },
          capacity: { cpu: 0, ram: 0 },
          used: { cpu: 0, ram: 0 },
          tasks: { running: contact.runningTasks ?? 0, pending: contact.pendingTasks ?? 0 },
          lastAnsweredAgoMs: contact.agoMs,
        };
        try {
          const { nodes } = await callRpc(this.nc, subjects.api(cell, "nodes"), listNodes, cell, {}, { timeoutMs: 2000 });
          for (const node of nodes) {
            summary.machines.total += 1;
            if (node.state !== "up") continue;
            summary.machines.up += 1;
            summary.capacity.cpu += node.capacity.cpu;
            summary.capacity.ram += node.capacity.ram;
            summary.used.cpu += node.used.cpu;
            summary.used.ram += node.used.ram;
          }
          this.monitor.heardFrom(cell);
        } catch {
          // health says why; the counts stay zero
        }
        return summary;
      }),
    );
  }
}
