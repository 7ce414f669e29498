import type { FederatedJobView } from "@corral/contracts";
import { sleep } from "@corral/kit";
import { sampler } from "../../harness/load-cell.js";
import { sumOf } from "../../harness/stats.js";
import type { FederationRun, PhaseCost } from "./federation-run.js";
import { progressLine, type ViewSample } from "./view-poller.js";

export interface Rebalance {
  /** the reconcile passes that stopped extras */
  passes: number;
  samples: ViewSample[];
  /** from the restart until every cell ran its home share */
  rebalanceS: number;
  /** from the restart until the view showed every cell reachable */
  backS: number | undefined;
  /** the fewest replicas running that the view showed while the cell was back */
  minRunning: number;
  /** the same by the leaders' committed changes */
  minRunningEvents: number;
  /** time between one rebalancing pass and the next */
  passGapsMs: number[];
  job: FederatedJobView;
  byEvents: { t: number; value: Record<string, number> }[];
  cost: PhaseCost;
}

/** Restarts the lost cell's masters and waits until every cell is back at its home share. */
export async function rebalanceBack(run: FederationRun, masters: readonly string[]): Promise<Rebalance> {
  const { fed, lose } = run;
  await sleep(2000);
  let minRunningEvents = run.runningByEvents();
  const stopWatching = fed.onChange(() => (minRunningEvents = Math.min(minRunningEvents, run.runningByEvents())));
  const finishPhase = await run.startPhase();
  const byEvents = sampler(250, () => fed.runningByEvents());
  const restartedAt = performance.now();
  const restartedWall = Date.now();
  for (const name of masters) await fed.restart(name);
  process.stderr.write(`  restarted ${masters.join(", ")}\n`);
  let backAt: number | undefined;
  let minRunning = Infinity;
  const progress = progressLine("rebalance");
  const done = await run.poller.until(
    `${lose} back and every cell at its home share`,
    restartedAt,
    (sample, job) => job.cells.every((cell) => cell.reachable && cell.assigned === cell.home && cell.running === cell.home),
    (sample) => {
      const allReachable = Object.values(sample.reachable).every(Boolean);
      progress(sample);
      if (!allReachable) return;
      backAt ??= restartedAt + sample.t * 1000;
      minRunning = Math.min(minRunning, sumOf(sample.running));
    },
  );
  byEvents.stop();
  stopWatching();
  // Each rebalancing decision is one reconcile pass that stopped extras: their spacing is the passes' pace.
  const steps = done.job.events.filter((event) => event.at >= restartedWall && event.text.startsWith("rebalancing")).map((event) => event.at);
  const passGapsMs = steps.slice(1).map((at, i) => at - steps[i]!);
  const rebalanceS = (done.at - restartedAt) / 1000;
  const cost = await finishPhase();
  process.stderr.write(`  rebalanced: ${rebalanceS.toFixed(2)} s after the restart; lowest running seen ${minRunning} (events: ${minRunningEvents})\n`);
  return {
    passes: steps.length,
    samples: done.samples,
    rebalanceS,
    backS: backAt === undefined ? undefined : (backAt - restartedAt) / 1000,
    minRunning,
    minRunningEvents,
    passGapsMs,
    job: done.job,
    byEvents: byEvents.samples,
    cost,
  };
}
