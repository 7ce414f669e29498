import { Counter, Gauge, type Registry } from "prom-client";
import type { CellMonitor } from "./cell-monitor.js";

const HEALTH_VALUE = { healthy: 1, unreachable: 0.5, down: 0 } as const;

/** What a federation's gateway reports: each cell's health, whether it reconciles, and what it asked of the cells. */
export class FederationMetrics {
  readonly actions: Counter<"action" | "target_cell" | "outcome">;
  readonly passes: Counter;
  private readonly leadingGauge: Gauge;

  constructor(registry: Registry, monitor: CellMonitor) {
    const registers = [registry];
    new Gauge({
      name: "corral_gateway_cell_health",
      help: "Each federated cell as this gateway sees it: 1 healthy, 0.5 unreachable (not yet down), 0 down.",
      labelNames: ["target_cell"],
      registers,
      collect() {
        for (const cell of monitor.cells) this.set({ target_cell: cell }, HEALTH_VALUE[monitor.health(cell)]);
      },
    });
    this.leadingGauge = new Gauge({ name: "corral_gateway_reconciler_leading", help: "1 while this gateway holds the federation's reconciler lease.", registers });
    this.passes = new Counter({ name: "corral_gateway_reconcile_passes_total", help: "Reconcile passes this gateway ran as lease holder.", registers });
    this.actions = new Counter({
      name: "corral_gateway_federation_actions_total",
      help: "Requests the reconciler sent to cells for federated jobs' members, by action (submit, scale, kill) and outcome (done, refused, failed).",
      labelNames: ["action", "target_cell", "outcome"],
      registers,
    });
  }

  setLeading(leading: boolean): void {
    this.leadingGauge.set(leading ? 1 : 0);
  }
}
