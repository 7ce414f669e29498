import { execFileSync } from "node:child_process";
import { REPO_ROOT } from "@corral/launcher";
import type { ChartSpec } from "../../harness/result.js";
import { percentile } from "../../harness/stats.js";
import type { ScenarioOutcome } from "../../scenario.js";
import type { AtRestTimes } from "./at-rest.js";
import { cpuByRole, otherCores } from "./cpu-use.js";
import type { FederationRun, PhaseCost } from "./federation-run.js";
import type { Placement } from "./place-phase.js";
import type { Rebalance } from "./rebalance-phase.js";
import type { Recovery } from "./recovery-phase.js";

/** Everything a run found, phase by phase. */
export interface FederationFindings {
  run: FederationRun;
  /** the machine's load before this run's own processes started */
  loadAverageAtStart: number;
  idleCores: number;
  source: string;
  place: Placement;
  atRest: AtRestTimes;
  recovery: Recovery;
  rebalance: Rebalance | undefined;
  epochsAtEnd: Record<string, number>;
  charts: ChartSpec[];
  cpuAtEnd: Record<string, number>;
}

/** The commit the services ran from, and whether services/ or shared/ had uncommitted changes. */
function codeVersion(): string {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "services", "shared"], { cwd: REPO_ROOT, encoding: "utf8" }).trim() !== "";
    return dirty ? `${commit}+changes` : commit;
  } catch {
    return "unknown";
  }
}

/** The reconciler's mean time from one pass's start to the next's (its timer is 1 s after a pass ends). */
function passIntervalMs(cost: PhaseCost): number {
  return Math.round((cost.marks[1].at - cost.marks[0].at) / cost.passes);
}

export function federationOutcome(found: FederationFindings): ScenarioOutcome {
  const { run, place, atRest, recovery, rebalance, epochsAtEnd } = found;
  const { options, cells, others, poller } = run;
  // Before the kill nothing should have moved: a cell called down then (its leader too slow to answer the gateway for cell-down-after) had its share placed elsewhere.
  const movedBeforeKill = (rebalance?.job ?? recovery.recovered.job).events.filter((event) => event.at < recovery.killedWall && event.text.startsWith("placed"));
  const unexpectedFailovers = others.filter((cell) => epochsAtEnd[cell] !== run.epochsAtStart[cell]);
  const views = poller.viewMs.map((v) => v.ms);
  return {
    config: {
      ...options,
      cells: cells.join(","),
      hollowMachinesEach: Math.ceil(options.machinesPerCell / options.hollowProcesses),
      machineDownAfterMs: options.heartbeatMs * 3,
      reconciler: run.reconciler,
      code: codeVersion(),
      loadAverageAtStart: found.loadAverageAtStart,
      polledGateway: run.polledGateway,
      killed: recovery.masters.join(","),
    },
    metrics: {
      place_10k_s: place.placeS,
      place_events_s: place.eventsS,
      submit_ms: place.submitMs,
      cell_recovery_s: recovery.recoveryS,
      cell_recovery_after_down_s: recovery.recoveryS - options.cellDownAfterMs / 1000,
      cell_unreachable_in_view_s: recovery.unreachableS,
      placed_elsewhere_s: recovery.placedElsewhereS,
      recovery_events_s: recovery.eventsS,
      moved_replicas: recovery.homeShare,
      ...(rebalance === undefined
        ? {}
        : {
            rebalance_s: rebalance.rebalanceS,
            cell_back_s: rebalance.backS ?? Number.NaN,
            min_running_during_rebalance: rebalance.minRunning,
            min_running_during_rebalance_events: rebalance.minRunningEvents,
            rebalance_passes: rebalance.passes,
            rebalance_pass_gap_ms: { p50: percentile(rebalance.passGapsMs, 50), max: rebalance.passGapsMs.length === 0 ? Number.NaN : Math.max(...rebalance.passGapsMs) },
          }),
      view_ms: { p50: percentile(views, 50), p99: percentile(views, 99), max: Math.max(...views) },
      view_steady_ms_p50: percentile(atRest.steadyViewMs, 50),
      view_bytes_max: Math.max(...poller.viewBytes),
      member_status_ms_p50: Object.fromEntries(Object.entries(atRest.memberStatusMs).map(([cell, ms]) => [cell, percentile(ms, 50)])),
      leader_event_loop_max_ms_during_place: place.leaderLoopMs,
      unexpected_failovers: unexpectedFailovers.length,
      unexpected_moves: movedBeforeKill.length,
      idle_cores: found.idleCores,
      reconcile_pass_interval_ms: {
        place: passIntervalMs(place.cost),
        recovery: passIntervalMs(recovery.cost),
        ...(rebalance === undefined ? {} : { rebalance: passIntervalMs(rebalance.cost) }),
      },
      /** cores used by processes not of this run, per phase: 0 on a quiet machine */
      other_cores: {
        place: otherCores(...place.cost.marks),
        recovery: otherCores(...recovery.cost.marks),
        ...(rebalance === undefined ? {} : { rebalance: otherCores(...rebalance.cost.marks) }),
      },
      cpu_s_place: cpuByRole(place.cost.marks[0].ours, place.cost.cpuAfter),
    },
    samples: {
      place: place.placed.samples,
      placeByEvents: place.byEvents,
      recovery: recovery.recovered.samples,
      recoveryByEvents: recovery.byEvents,
      ...(rebalance === undefined ? {} : { rebalance: rebalance.samples, rebalanceByEvents: rebalance.byEvents, rebalancePassGapsMs: rebalance.passGapsMs }),
      viewMs: poller.viewMs,
      memberStatusMs: atRest.memberStatusMs,
      steadyViewMs: atRest.steadyViewMs,
      spec: found.source,
      cpuSecondsRecovery: cpuByRole(place.cost.cpuAfter, recovery.cost.cpuAfter),
      ...(rebalance === undefined ? {} : { cpuSecondsRebalance: cpuByRole(recovery.cost.cpuAfter, rebalance.cost.cpuAfter) }),
      cpuSecondsByProcess: found.cpuAtEnd,
      epochsAtStart: run.epochsAtStart,
      epochsAtEnd,
      unexpectedFailovers,
      healthAfterLoss: recovery.healthAfterLoss,
      events: (rebalance?.job ?? recovery.recovered.job).events,
    },
    charts: found.charts,
  };
}
