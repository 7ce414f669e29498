import { CorralError, federationOf, type FederatedJobRecord } from "@corral/contracts";
import type { Logger, NatsConnection } from "@corral/kit";
import type { CellMonitor } from "./cell-monitor.js";
import type { FederationStore, Versioned } from "./federation-store.js";
import type { FederationMetrics } from "./federation-metrics.js";
import { fetchMember, killMember, memberJobId, observeMember, scaleMember, submitMember } from "./member-jobs.js";
import { decide, note, type CellAction, type CellObservation } from "./placement.js";

/** What a cell refuses (for now: see REFUSAL_RETRY_MS): its share goes elsewhere. Anything else is tried again next pass. */
const REFUSALS: ReadonlySet<string> = new Set(["quota_exceeded", "bad_request"]);
/** A refusal is forgotten after this long and the cell asked again: quota grows, other jobs end. */
const REFUSAL_RETRY_MS = 60_000;
/** A killed job's record stays this long after it stopped everywhere, so its end can be seen. */
const STOPPED_RECORD_KEPT_MS = 60_000;

/** How much of the lease must be left for a gateway to still send requests to cells. */
const LEASE_MARGIN_MS = 500;

/** Federated jobs reconciled at once; each asks every one of its cells. */
const PARALLEL_JOBS = 16;

export interface ReconcilerOptions {
  /** how often every federated job is looked at */
  everyMs: number;
  /** the reconciler lease's length; renewed every pass */
  leaseTtlMs: number;
}

/**
 * Brings every federated job toward its placement policy, one pass every `everyMs`, in
 * the one gateway that holds the reconciler lease. A pass observes each member job,
 * decides (placement.ts), writes the decision with compare-and-set and only then asks the
 * cells: a gateway killed at any point leaves a record from which the next lease holder
 * carries on, and repeats of a request change nothing.
 */
export class FederationReconciler {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private leading = false;
  /** when the lease this gateway holds lapses unless renewed; it acts only well before */
  private leaseUntil = 0;
  private passing: Promise<void> = Promise.resolve();

  constructor(
    private readonly nc: NatsConnection,
    private readonly store: FederationStore,
    private readonly monitor: CellMonitor,
    private readonly name: string,
    private readonly log: Logger,
    private readonly options: ReconcilerOptions,
    private readonly metrics?: FederationMetrics,
  ) {}

  start(): void {
    const tick = () => {
      this.passing = this.pass()
        .catch((error: unknown) => this.log.warn({ err: (error as Error).message }, "federation pass failed"))
        .finally(() => {
          if (this.stopped) return;
          this.timer = setTimeout(tick, this.options.everyMs);
          this.timer.unref();
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.passing;
    // Handed over at once (a lease that lapses now), not after its time runs out.
    if (this.leading) await this.store.holdLease(this.name, 0).catch(() => {});
  }

  get isLeading(): boolean {
    return this.leading;
  }

  /** One pass: the lease renewed, then every federated job looked at. */
  async pass(): Promise<void> {
    if (!(await this.renewLease())) return;
    this.metrics?.passes.inc();
    const records = await this.store.list();
    for (let i = 0; i < records.length && !this.stopped; i += PARALLEL_JOBS) {
      // Renewed before each chunk, so a long pass never acts on a lease another gateway has taken.
      if (i > 0 && !(await this.renewLease())) return;
      const results = await Promise.allSettled(records.slice(i, i + PARALLEL_JOBS).map((record) => this.reconcile(record)));
      for (const [index, result] of results.entries()) {
        if (result.status === "rejected") this.log.warn({ job: records[i + index]!.value.id, err: (result.reason as Error)?.message }, "a federated job could not be reconciled this pass");
      }
    }
  }

  private async renewLease(): Promise<boolean> {
    const askedAt = Date.now();
    const leading = await this.store.holdLease(this.name, this.options.leaseTtlMs, askedAt);
    this.leaseUntil = leading ? askedAt + this.options.leaseTtlMs : 0;
    if (leading !== this.leading) this.log.info({ gateway: this.name }, leading ? "took the federation reconciler lease" : "another gateway reconciles the federation");
    this.leading = leading;
    this.metrics?.setLeading(leading);
    return leading;
  }

  private async observe(record: FederatedJobRecord, cell: string): Promise<CellObservation> {
    if (this.monitor.health(cell) === "down") return { reachable: false, down: true };
    try {
      const view = await fetchMember(this.nc, cell, memberJobId(record, cell), { countsOnly: true });
      this.monitor.heardFrom(cell);
      return view === undefined ? { reachable: true, down: false } : { reachable: true, down: false, member: observeMember(view, record.id) };
    } catch (error) {
      // Whatever the cell answered (no answer, a deposed leader, an internal error), it did
      // not say what runs there: unknown this pass, like a cell that does not answer.
      if (!(error instanceof CorralError) || error.code !== "unavailable") this.log.warn({ job: record.id, cell, err: (error as Error).message }, "a cell could not say how a federated job's member is");
      return { reachable: false, down: this.monitor.health(cell) === "down" };
    }
  }

  private async reconcile({ value: stored, revision }: Versioned<FederatedJobRecord>): Promise<void> {
    const policy = federationOf(stored.spec);
    if (policy === undefined) return;
    const now = Date.now();
    if (stored.stoppedAt !== undefined) {
      if (now - stored.stoppedAt >= STOPPED_RECORD_KEPT_MS && (await this.store.remove(stored.id, revision))) this.log.info({ job: stored.id }, "forgot a federated job that stopped everywhere");
      return;
    }
    let record = stored;
    const expired = Object.entries(record.refused).filter(([, refusal]) => now - refusal.at >= REFUSAL_RETRY_MS);
    if (expired.length > 0) {
      record = structuredClone(record);
      for (const [cell] of expired) delete record.refused[cell];
      note(record, now, `asking ${expired.map(([cell]) => cell).join(", ")} again after ${REFUSAL_RETRY_MS / 1000}s`);
    }
    const seen = new Map<string, CellObservation>();
    await Promise.all(policy.cells.map(async (cell) => seen.set(cell, await this.observe(record, cell))));
    const decision = decide(record, policy, seen, Date.now());
    const { next, actions } = decision;
    const changed = decision.changed || record !== stored;
    if (changed && (await this.store.update(next, revision)) === undefined) return; // someone wrote first: next pass sees theirs
    if (changed && JSON.stringify(next.events.at(-1)) !== JSON.stringify(stored.events.at(-1))) {
      this.log.info({ job: record.id, decision: next.events.at(-1)!.text }, "federated job placement");
    }
    // Cells are asked at once; each answer carries the member's whole job, so one after
    // another the last cell would wait for every other's.
    // Only with time left on the lease: past it another gateway may be acting already.
    if (!this.leading || this.stopped || Date.now() > this.leaseUntil - LEASE_MARGIN_MS) return;
    await Promise.all(actions.map((action) => this.apply(next, action)));
  }

  private async apply(record: FederatedJobRecord, action: CellAction): Promise<void> {
    const job = memberJobId(record, action.cell);
    try {
      if (action.kind === "submit") await submitMember(this.nc, record, action.cell, action.replicas, action.attempt);
      else if (action.kind === "scale") await scaleMember(this.nc, record, action.cell, action.replicas);
      else await killMember(this.nc, record, action.cell);
      this.monitor.heardFrom(action.cell);
      this.metrics?.actions.inc({ action: action.kind, target_cell: action.cell, outcome: "done" });
      this.log.info({ job, cell: action.cell, action: action.kind, ...(action.kind === "kill" ? {} : { replicas: action.replicas }) }, "federated job member changed");
    } catch (error) {
      const refused = error instanceof CorralError && REFUSALS.has(error.code);
      this.metrics?.actions.inc({ action: action.kind, target_cell: action.cell, outcome: refused ? "refused" : "failed" });
      if (!refused) {
        this.log.warn({ job, cell: action.cell, action: action.kind, err: (error as Error).message }, "a federated job member change failed; retried next pass");
        return;
      }
      this.log.warn({ job, cell: action.cell, err: (error as Error).message }, "a cell refused its share of a federated job");
      await this.store.modify(record.id, (current) => {
        if (current.generation !== record.generation || current.refused[action.cell] !== undefined) return undefined;
        const message = (error as Error).message;
        current.refused[action.cell] = { at: Date.now(), message: message.slice(0, 2000) };
        note(current, Date.now(), `cell ${action.cell} refused: ${message.slice(0, 500)}`);
        return current;
      });
    }
  }
}
