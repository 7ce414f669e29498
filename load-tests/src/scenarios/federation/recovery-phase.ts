import { sampler } from "../../harness/load-cell.js";
import { sumOf } from "../../harness/stats.js";
import type { FederationRun, PhaseCost } from "./federation-run.js";
import { progressLine, type PolledView } from "./view-poller.js";

export interface Recovery {
  /** the lost cell's masters, all SIGKILLed */
  masters: string[];
  /** the lost cell's home share: the replicas that had to move */
  homeShare: number;
  /** Date.now() at the kill, to tell the job's events before it from those after */
  killedWall: number;
  recovered: PolledView;
  /** from the kill until every replica ran outside the lost cell */
  recoveryS: number;
  /** from the kill until the view showed the cell unreachable; NaN if it never did */
  unreachableS: number;
  /** from the kill until another cell was assigned more; NaN if none was */
  placedElsewhereS: number;
  /** from the kill until the leaders' committed changes had every replica outside the lost cell; NaN if never */
  eventsS: number;
  byEvents: { t: number; value: Record<string, number> }[];
  cost: PhaseCost;
  /** every cell's health as the polled gateway saw it once recovered */
  healthAfterLoss: string;
}

/** SIGKILLs every master of one cell and waits until its share runs in the others. */
export async function loseCell(run: FederationRun, placed: PolledView): Promise<Recovery> {
  const { fed, options, lose, others } = run;
  const masters = fed.processNames(`${lose}-master-`);
  const homeShare = placed.job.cells.find((cell) => cell.cell === lose)?.home ?? 0;
  let recoveryEventsAt: number | undefined;
  const stopWatching = fed.onChange(() => {
    if (recoveryEventsAt === undefined && sumOf(fed.runningByEvents(), lose) >= options.replicas) recoveryEventsAt = performance.now();
  });
  const finishPhase = await run.startPhase();
  const byEvents = sampler(250, () => fed.runningByEvents());
  for (const name of masters) fed.kill9(name);
  const killedAt = performance.now();
  const killedWall = Date.now();
  process.stderr.write(`  killed ${masters.join(", ")}\n`);
  let unreachableAt: number | undefined;
  let placedElsewhereAt: number | undefined;
  const assignedBefore = Object.fromEntries(others.map((cell) => [cell, placed.job.cells.find((c) => c.cell === cell)?.assigned ?? 0]));
  const progress = progressLine("recovery");
  const recovered = await run.poller.until(
    `${options.replicas} replicas running outside ${lose}`,
    killedAt,
    (sample) => sumOf(sample.running, lose) >= options.replicas,
    (sample) => {
      const now = killedAt + sample.t * 1000;
      if (unreachableAt === undefined && sample.reachable[lose] === false) unreachableAt = now;
      if (placedElsewhereAt === undefined && others.some((cell) => (sample.assigned[cell] ?? 0) > (assignedBefore[cell] ?? 0))) placedElsewhereAt = now;
      progress(sample);
    },
  );
  const recoveryS = (recovered.at - killedAt) / 1000;
  byEvents.stop();
  stopWatching();
  const cost = await finishPhase();
  const healthAfterLoss = (await fed.cells(run.poller.gateway)).cells.map((cell) => `${cell.cell}: ${cell.health}`).join(", ");
  process.stderr.write(`  recovered: ${options.replicas} running outside ${lose} ${recoveryS.toFixed(2)} s after the kill (${healthAfterLoss})\n`);
  const sinceKill = (at: number | undefined) => (at === undefined ? Number.NaN : (at - killedAt) / 1000);
  return {
    masters,
    homeShare,
    killedWall,
    recovered,
    recoveryS,
    unreachableS: sinceKill(unreachableAt),
    placedElsewhereS: sinceKill(placedElsewhereAt),
    eventsS: sinceKill(recoveryEventsAt),
    byEvents: byEvents.samples,
    cost,
    healthAfterLoss,
  };
}
