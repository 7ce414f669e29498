import { Counter, Histogram, type Registry } from "prom-client";

/** A round over a few tasks is milliseconds; thousands of tasks on thousands of machines take seconds. */
const ROUND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One scheduler's work: how long its rounds take and what became of the tasks it placed. */
export class SchedulerMetrics {
  readonly roundSeconds: Histogram;
  readonly placements: Counter;
  readonly rejections: Counter;
  readonly unplaced: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.roundSeconds = new Histogram({
      name: "corral_scheduler_round_duration_seconds",
      help: "Time of a scheduling round, from asking the leader for work until it answered the plan.",
      buckets: ROUND_BUCKETS,
      registers,
    });
    this.placements = new Counter({ name: "corral_scheduler_placements_total", help: "Placements the leader committed from this scheduler's plans.", registers });
    this.rejections = new Counter({
      name: "corral_scheduler_rejections_total",
      help: "Placements the leader refused on re-checking them against its current state (it changed since the work was fetched).",
      registers,
    });
    this.unplaced = new Counter({
      name: "corral_scheduler_unplaced_total",
      help: "Tasks a round found no machine for (a task still pending is counted again by each round).",
      registers,
    });
  }
}
