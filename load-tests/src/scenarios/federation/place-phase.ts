import { sampler } from "../../harness/load-cell.js";
import { sumOf } from "../../harness/stats.js";
import type { FederationRun, PhaseCost } from "./federation-run.js";
import { progressLine, type PolledView } from "./view-poller.js";

export interface Placement {
  placed: PolledView;
  /** from the submission until the view showed every replica running */
  placeS: number;
  /** from the submission until the leaders' committed changes did; NaN if they never did */
  eventsS: number;
  submitMs: number;
  byEvents: { t: number; value: Record<string, number> }[];
  /** each cell's leader's longest event-loop stall while placing */
  leaderLoopMs: Record<string, number>;
  cost: PhaseCost;
}

/** Submits the federated job and waits until every replica runs. */
export async function placeJob(run: FederationRun, source: string): Promise<Placement> {
  const { fed, options, cells } = run;
  await Promise.all(cells.map((cell) => fed.leaderStats(cell))); // resets each leader's event-loop maximum
  const finishPhase = await run.startPhase();
  const placeStarted = performance.now();
  let placeEventsAt: number | undefined;
  const stopWatching = fed.onChange(() => {
    if (placeEventsAt === undefined && run.runningByEvents() >= options.replicas) placeEventsAt = performance.now();
  });
  const byEvents = sampler(250, () => fed.runningByEvents());
  const submitted = await fed.submit(source, 0);
  const submitMs = performance.now() - placeStarted;
  if (submitted.status !== 201) throw new Error(`the federated job was refused: ${submitted.status} ${submitted.error}`);
  const placed = await run.poller.until(`${options.replicas} replicas running`, placeStarted, (sample) => sumOf(sample.running) >= options.replicas, progressLine("place"));
  const placeS = (placed.at - placeStarted) / 1000;
  byEvents.stop();
  stopWatching();
  const leaderLoopMs = Object.fromEntries(await Promise.all(cells.map(async (cell) => [cell, (await fed.leaderStats(cell)).eventLoopDelayMaxMs] as const)));
  const cost = await finishPhase();
  process.stderr.write(`  placed: ${options.replicas} running ${placeS.toFixed(2)} s after the submission (events: ${placeEventsAt === undefined ? "?" : ((placeEventsAt - placeStarted) / 1000).toFixed(2)} s)\n`);
  return {
    placed,
    placeS,
    eventsS: placeEventsAt === undefined ? Number.NaN : (placeEventsAt - placeStarted) / 1000,
    submitMs,
    byEvents: byEvents.samples,
    leaderLoopMs,
    cost,
  };
}
