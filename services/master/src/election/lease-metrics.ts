// How close the leader lease came to lapsing, exported so that a lease too short for its machine
// shows before it costs a term.
import type { LeaseKeeper } from "@corral/kit";
import { Counter, Gauge, type Registry } from "prom-client";

/**
 * How close this replica's terms came to losing the lease without a fault: the smallest
 * margin between a renewal and the moment the leader would have stepped down. A margin
 * near zero on a busy machine means the lease is too short for it.
 */
export class LeaseMetrics {
  constructor(registry: Registry, keeper: LeaseKeeper) {
    const registers = [registry];
    new Gauge({
      name: "corral_master_lease_slack_min_seconds",
      help: "The smallest margin seen between a lease renewal and this replica's step-down deadline, over its terms (NaN before any renewal).",
      registers,
      collect() {
        const slack = keeper.minSlackMs;
        this.set(slack === undefined ? Number.NaN : slack / 1000);
      },
    });
    let counted = 0;
    new Counter({
      name: "corral_master_lease_renewals_total",
      help: "Successful renewals of the leader lease by this replica.",
      registers,
      collect() {
        this.inc(keeper.renewals - counted);
        counted = keeper.renewals;
      },
    });
  }
}
