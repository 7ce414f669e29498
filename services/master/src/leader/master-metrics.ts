// A replica's metrics, computed when scraped so that the leader's hot paths do no metric work.
import { PRIORITY_BANDS, TASK_STATES } from "@corral/contracts";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { CellState, NodeRecord } from "../state/cell-state.js";

/** A term's heartbeat counts, as its handlers keep them (`LeaderContext.heartbeats`). */
export interface HeartbeatCounts {
  direct: number;
  forwarded: number;
  aliveReported: number;
}

/** What the metrics read from the replica when scraped. */
export interface ReplicaView {
  /** the epoch this replica leads with; 0 while it stands by */
  epoch(): number;
  /** the leader's state; undefined on a standby, whose followed copy is not the cell's decisions */
  leaderState(): CellState | undefined;
}

/** Commits are a millisecond or two on a local Redis, up to seconds when WAIT waits for replicas. */
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * A master replica's metrics. Everything about the cell's state is computed when scraped,
 * from the leader's state alone (standbys export none of it, so sums over the replicas are
 * the cell's), and the handlers' plain heartbeat counters are read then too: the hot paths
 * do no metric work beyond one histogram observation per commit.
 */
export class MasterMetrics {
  readonly termsWon: Counter;
  readonly stepDowns: Counter;
  readonly commitSeconds: Histogram;
  /** heartbeats of this replica's earlier terms */
  private readonly earlierTerms: HeartbeatCounts = { direct: 0, forwarded: 0, aliveReported: 0 };
  private currentTerm: HeartbeatCounts | undefined;

  constructor(registry: Registry, replica: ReplicaView) {
    const registers = [registry];
    new Gauge({
      name: "corral_master_is_leader",
      help: "1 on the replica that leads the cell, 0 on standbys.",
      registers,
      collect() {
        this.set(replica.epoch() > 0 ? 1 : 0);
      },
    });
    new Gauge({
      name: "corral_master_epoch",
      help: "The epoch this replica leads with (the fencing token); 0 on standbys.",
      registers,
      collect() {
        this.set(replica.epoch());
      },
    });
    this.termsWon = new Counter({ name: "corral_master_terms_won_total", help: "Elections this replica won; across the replicas, every one after the first is a failover.", registers });
    this.stepDowns = new Counter({ name: "corral_master_step_downs_total", help: "Leadership terms this replica ended (lease lost, deposed by the fence, or shutting down).", registers });
    this.commitSeconds = new Histogram({
      name: "corral_master_commit_duration_seconds",
      help: "Time of each fenced commit of the leader's state changes to Redis.",
      buckets: COMMIT_BUCKETS,
      registers,
    });
    // The leader's state counted three ways; each count starts every key at 0, so a label never vanishes.
    const countGauge = (name: string, help: string, label: string, keys: readonly string[], count: (state: CellState, add: (key: string) => void) => void) =>
      new Gauge({
        name,
        help,
        labelNames: [label],
        registers,
        collect() {
          this.reset();
          const state = replica.leaderState();
          if (state === undefined) return;
          const counts = new Map<string, number>(keys.map((key) => [key, 0]));
          count(state, (key) => counts.set(key, (counts.get(key) ?? 0) + 1));
          for (const [key, value] of counts) this.set({ [label]: key }, value);
        },
      });
    countGauge("corral_master_pending_tasks", "Tasks waiting for a machine, by priority band (leader only).", "band", PRIORITY_BANDS, (state, add) => {
      for (const ref of state.pendingTasks()) add(ref.job.spec.priority);
    });
    countGauge("corral_master_tasks", "The cell's tasks by lifecycle state, alloc reservations included (leader only).", "state", TASK_STATES, (state, add) => {
      for (const job of state.jobs.values()) for (const task of job.tasks) add(task.lifecycle.state);
    });
    countGauge("corral_master_machines", "Machines the leader knows, by state (leader only).", "state", ["up", "down"] satisfies NodeRecord["state"][], (state, add) => {
      for (const node of state.nodes.values()) add(node.state);
    });
    const heartbeats = (arrived: keyof HeartbeatCounts) => this.earlierTerms[arrived] + (this.currentTerm?.[arrived] ?? 0);
    new Counter({
      name: "corral_master_heartbeats_total",
      help: "Borglet heartbeats this replica took in while leading, by how they arrived: direct (its own share), forwarded whole by a standby's link shard, or alive_reported (a shard's 'alive, unchanged').",
      labelNames: ["arrived"],
      registers,
      collect() {
        this.reset();
        this.inc({ arrived: "direct" }, heartbeats("direct"));
        this.inc({ arrived: "forwarded" }, heartbeats("forwarded"));
        this.inc({ arrived: "alive_reported" }, heartbeats("aliveReported"));
      },
    });
  }

  /** A term began: its heartbeat counts are this replica's from now on, on top of its earlier terms'. */
  termStarted(heartbeats: HeartbeatCounts): void {
    this.termsWon.inc();
    if (this.currentTerm !== undefined) {
      this.earlierTerms.direct += this.currentTerm.direct;
      this.earlierTerms.forwarded += this.currentTerm.forwarded;
      this.earlierTerms.aliveReported += this.currentTerm.aliveReported;
    }
    this.currentTerm = heartbeats;
  }
}
