import type { ChartSeries, ChartSpec } from "../../harness/result.js";
import { sumOf } from "../../harness/stats.js";
import type { FederationRun } from "./federation-run.js";
import { FEDERATED_ID } from "./job.js";
import type { Placement } from "./place-phase.js";
import type { Rebalance } from "./rebalance-phase.js";
import type { Recovery } from "./recovery-phase.js";
import type { ViewSample } from "./view-poller.js";

/** Running replicas over each phase, per cell and in all, from the view and from the leaders' events; then the view's answer time. */
export function federationCharts(run: FederationRun, place: Placement, recovery: Recovery, rebalance: Rebalance | undefined): ChartSpec[] {
  const { options, cells, lose, others, fed, poller } = run;
  const perCellSeries = (samples: readonly ViewSample[], except?: string): ChartSeries[] => [
    ...cells.map((cell) => ({ label: `running in ${cell}`, points: samples.map((s) => ({ x: s.t, y: s.running[cell] ?? 0 })) })),
    { label: except === undefined ? "running, all cells" : `running outside ${except}`, points: samples.map((s) => ({ x: s.t, y: sumOf(s.running, except) })) },
  ];
  const eventSeries = (samples: readonly { t: number; value: Record<string, number> }[], label: string, except?: string): ChartSeries => ({
    label,
    points: samples.map((s) => ({ x: s.t, y: sumOf(s.value, except) })),
  });
  const charts: ChartSpec[] = [
    {
      title: `Placing ${options.replicas.toLocaleString("en-US")} replicas over ${cells.join(", ")} (federated view, every ${options.pollMs} ms)`,
      xLabel: "seconds since the submission",
      yLabel: "replicas running",
      series: [...perCellSeries(place.placed.samples), eventSeries(place.byEvents, "running, all cells (leaders' committed changes)")],
    },
    {
      title: `Every master of cell ${lose} SIGKILLed: its ${recovery.homeShare.toLocaleString("en-US")} replicas placed elsewhere (cell-down-after ${options.cellDownAfterMs / 1000} s)`,
      xLabel: "seconds since the kill",
      yLabel: "replicas running",
      series: [
        ...perCellSeries(recovery.recovered.samples, lose),
        eventSeries(recovery.byEvents, `running outside ${lose} (leaders' committed changes)`, lose),
        { label: "cell-down-after", points: [{ x: options.cellDownAfterMs / 1000, y: 0 }, { x: options.cellDownAfterMs / 1000, y: options.replicas }] },
      ],
    },
  ];
  if (rebalance !== undefined) {
    charts.push({
      title: `Cell ${lose}'s masters restarted: extras in ${others.join(", ")} stopped (max_disruption ${options.maxDisruption}); running must stay ≥ ${options.replicas.toLocaleString("en-US")}`,
      xLabel: "seconds since the restart",
      yLabel: "replicas running",
      series: [...perCellSeries(rebalance.samples), eventSeries(rebalance.byEvents, "running, all cells (leaders' committed changes)")],
    });
  }
  charts.push({
    title: `GET /v1/jobs/${FEDERATED_ID} on ${fed.gateways.length > 1 ? `gateway-${poller.gateway}` : "the gateway"}: time to answer`,
    xLabel: "seconds since the run began",
    yLabel: "milliseconds",
    series: [{ label: "view", points: poller.viewMs.map((v) => ({ x: v.t, y: v.ms })) }],
  });
  return charts;
}
