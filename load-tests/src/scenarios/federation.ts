import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { z } from "zod";
import { jobStatus, jobId, subjects, type FederatedJobView } from "@corral/contracts";
import { callRpc, sleep } from "@corral/kit";
import { REPO_ROOT } from "@corral/launcher";
import { defineScenario } from "../scenario.js";
import type { ChartSpec } from "../harness/result.js";
import { LOAD_USER, sampler } from "../harness/load-cell.js";
import { LoadFederation } from "../harness/load-federation.js";
import { machineBusySeconds } from "../harness/machine-cpu.js";
import { percentile } from "../harness/stats.js";

const JOB = "web";
const FEDERATED_ID = `${JOB}.${LOAD_USER}`;

/** One look at the federated job through a gateway's view. */
interface ViewSample {
  /** seconds since the phase began, when the answer arrived */
  t: number;
  /** how long the gateway took to answer */
  ms: number;
  running: Record<string, number>;
  assigned: Record<string, number>;
  reachable: Record<string, boolean>;
}

function sampleOf(job: FederatedJobView, t: number, ms: number): ViewSample {
  const running: Record<string, number> = {};
  const assigned: Record<string, number> = {};
  const reachable: Record<string, boolean> = {};
  for (const cell of job.cells) {
    running[cell.cell] = cell.running;
    assigned[cell.cell] = cell.assigned;
    reachable[cell.cell] = cell.reachable;
  }
  return { t, ms, running, assigned, reachable };
}

const sum = (counts: Record<string, number>, except?: string) => Object.entries(counts).reduce((total, [cell, n]) => (cell === except ? total : total + n), 0);

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

/** A moment of a run: when, our processes' cpu, and the whole machine's. */
interface CpuMark {
  at: number;
  ours: Record<string, number>;
  machine: number;
}

/** Cores that processes other than this run's used between two marks (other engineers' tests on a shared machine). */
function otherCores(from: CpuMark, to: CpuMark): number {
  const ours = Object.entries(to.ours).reduce((total, [name, seconds]) => total + seconds - (from.ours[name] ?? 0), 0);
  return Math.round(((to.machine - from.machine - ours) / ((to.at - from.at) / 1000)) * 100) / 100;
}

/** CPU seconds by kind of process between two snapshots of `cpuSecondsByProcess`. */
function cpuByRole(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const roles: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(after)) {
    const role = name === "load-generator" ? name : name.startsWith("gateway") ? name : name.includes("master") ? "masters" : name.includes("scheduler") ? "schedulers" : name.includes("hollow") ? "hollow borglets" : "nats and redis";
    roles[role] = Math.round(((roles[role] ?? 0) + seconds - (before[name] ?? 0)) * 100) / 100;
  }
  return roles;
}

export const federation = defineScenario({
  name: "federation",
  description: "3 cells of hollow machines behind 2 gateways: time to place 10,000 federated replicas; time to recover a lost cell's share elsewhere, and to rebalance when it is back",
  options: z.object({
    replicas: z.coerce.number().int().min(3).max(100_000).default(10_000),
    cells: z.string().default("a,b,c").transform((text) => text.split(",").map((cell) => cell.trim())),
    /** the cell whose masters are all killed */
    lose: z.string().default("a"),
    machinesPerCell: z.coerce.number().int().min(1).default(1000),
    /** hollow borglet processes per cell, sharing its machines */
    hollowProcesses: z.coerce.number().int().min(1).default(1),
    /** per cell; 3 fit 2 cores with nine masters in all (see README § Performance) */
    masters: z.coerce.number().int().min(1).max(9).default(3),
    gateways: z.coerce.number().int().min(1).max(5).default(2),
    cellDownAfterMs: z.coerce.number().int().min(500).default(5000),
    heartbeatMs: z.coerce.number().int().min(100).default(2000),
    leaseTtlMs: z.coerce.number().int().min(300).default(1000),
    /** the job's max_disruption: extras stopped per reconcile pass while rebalancing (the spec's default is a tenth of the replicas) */
    maxDisruption: z.coerce.number().int().min(1).max(10_000).default(1000),
    /** restart the lost cell's masters and time the rebalance back */
    rebalance: z.stringbool().default(true),
    /** how often the federated view is read */
    pollMs: z.coerce.number().int().min(50).default(500),
    /** seconds the federation is watched idle (no job) before the submission: what the cells cost at rest */
    idleS: z.coerce.number().min(0).default(5),
    /** each phase's limit */
    timeoutS: z.coerce.number().min(1).default(300),
  }),
  async run(options) {
    const cells = options.cells;
    const lose = options.lose;
    if (cells.length < 2 || new Set(cells).size !== cells.length) throw new Error(`federation: --cells ${cells.join(",")} must name at least two cells, each once`);
    if (!cells.includes(lose)) throw new Error(`federation: --lose ${lose} is not one of --cells ${cells.join(",")}`);
    const others = cells.filter((cell) => cell !== lose);
    const loadAverageAtStart = loadavg()[0]!; // before this run's own processes start
    const fed = await LoadFederation.start("federation", {
      cells,
      gateways: options.gateways,
      masters: options.masters,
      hollow: { processes: options.hollowProcesses, machinesEach: Math.ceil(options.machinesPerCell / options.hollowProcesses) },
      cellDownAfterMs: options.cellDownAfterMs,
      heartbeatMs: options.heartbeatMs,
      downAfterMs: options.heartbeatMs * 3,
      leaseTtlMs: options.leaseTtlMs,
    });
    try {
      await sleep(2000); // the start-up's tail (compiling, first heartbeats) out of the idle measurement
      const cpuIdleFrom = fed.cpuSecondsByProcess();
      const idleFrom = performance.now();
      await sleep(options.idleS * 1000);
      const cpuAtStart = fed.cpuSecondsByProcess();
      const mark = (): CpuMark => ({ at: performance.now(), ours: fed.cpuSecondsByProcess(), machine: machineBusySeconds() });
      const idleCores = options.idleS === 0 ? Number.NaN : (sum(cpuAtStart) - sum(cpuIdleFrom)) / ((performance.now() - idleFrom) / 1000);
      // Read the view through a gateway that does not reconcile, so polling does not slow the reconciler down.
      const { reconciler } = await fed.cells(0);
      const pollGateway = fed.gateways.length > 1 && reconciler === "gateway-0" ? 1 : 0;
      const passes = () => fed.metric(reconciler ?? "gateway", "corral_gateway_reconcile_passes_total");
      const epochsAtStart = Object.fromEntries(await Promise.all(cells.map(async (cell) => [cell, (await fed.leaderStats(cell)).epoch] as const)));
      const viewMs: { t: number; ms: number }[] = [];
      const runStarted = performance.now();
      const viewBytes: number[] = [];

      /** What every gateway sees when a phase stalls: cell health, the reconciler, and its view of the job. */
      const diagnose = async () => {
        for (const [index, url] of fed.gateways.entries()) {
          const health = await fed.cells(index).then(
            (answer) => `reconciler ${answer.reconciler}; ${answer.cells.map((cell) => `${cell.cell} ${cell.health} (answered ${cell.lastAnsweredAgoMs} ms ago)`).join(", ")}`,
            (error: unknown) => `no answer: ${(error as Error).message}`,
          );
          const view = await fed.view(FEDERATED_ID, index).then(
            ({ job }) => `cells ${JSON.stringify(job.cells)}; last events ${JSON.stringify(job.events.slice(-3))}`,
            (error: unknown) => `no answer: ${(error as Error).message}`,
          );
          process.stderr.write(`  stalled; ${url}: ${health}\n    ${view}\n`);
        }
      };

      /** Reads the view every pollMs until `done` holds; every sample, with seconds since `since`. */
      const pollUntil = async (what: string, since: number, done: (sample: ViewSample, job: FederatedJobView) => boolean, onSample?: (sample: ViewSample) => void) => {
        const samples: ViewSample[] = [];
        const deadline = since + options.timeoutS * 1000;
        for (;;) {
          const sent = performance.now();
          const got = await fed.view(FEDERATED_ID, pollGateway).catch((error: unknown) => {
            process.stderr.write(`  view failed: ${(error as Error).message}\n`);
            return undefined;
          });
          if (got !== undefined) {
            const now = performance.now();
            const sample = sampleOf(got.job, (now - since) / 1000, got.ms);
            samples.push(sample);
            viewMs.push({ t: (now - runStarted) / 1000, ms: got.ms });
            viewBytes.push(got.bytes);
            onSample?.(sample);
            if (done(sample, got.job)) return { samples, job: got.job, at: now };
          }
          if (performance.now() > deadline) {
            await diagnose();
            const last = samples.at(-1);
            throw new Error(`timed out after ${options.timeoutS} s waiting for ${what}; last seen: running ${JSON.stringify(last?.running)}, assigned ${JSON.stringify(last?.assigned)}`);
          }
          await sleep(Math.max(0, options.pollMs - (performance.now() - sent)));
        }
      };
      /** A progress line every 5 s of a phase. */
      const progress = (label: string) => {
        let logged = -Infinity;
        return (sample: ViewSample) => {
          if (sample.t - logged < 5) return;
          logged = sample.t;
          process.stderr.write(`  ${label} ${sample.t.toFixed(1)} s: running ${JSON.stringify(sample.running)}, assigned ${JSON.stringify(sample.assigned)}, view ${Math.round(sample.ms)} ms\n`);
        };
      };

      // ---- place: one spread job of R replicas over every cell ----------------------------
      const source = `job ${JOB} = {\n  runtime = { cells = [${cells.map((c) => `'${c}'`).join(", ")}] policy = 'spread' max_disruption = ${options.maxDisruption} }\n  binary = 'hollow'\n  requirements = { cpu = 0.01  ram = 8M }\n  replicas = ${options.replicas}\n}\n`;
      const eventsTotal = () => sum(fed.runningByEvents());
      await Promise.all(cells.map((cell) => fed.leaderStats(cell))); // resets each leader's event-loop maximum
      const placeMark = mark();
      const passesAtPlace = await passes();
      const placeStarted = performance.now();
      let placeEventsAt: number | undefined;
      const stopWatchingPlace = fed.onChange(() => {
        if (placeEventsAt === undefined && eventsTotal() >= options.replicas) placeEventsAt = performance.now();
      });
      const placeByEvents = sampler(250, () => fed.runningByEvents());
      const submitted = await fed.submit(source, 0);
      const submitMs = performance.now() - placeStarted;
      if (submitted.status !== 201) throw new Error(`the federated job was refused: ${submitted.status} ${submitted.error}`);
      const placed = await pollUntil(`${options.replicas} replicas running`, placeStarted, (sample) => sum(sample.running) >= options.replicas, progress("place"));
      const placeS = (placed.at - placeStarted) / 1000;
      placeByEvents.stop();
      stopWatchingPlace();
      const leaderLoopMs = Object.fromEntries(await Promise.all(cells.map(async (cell) => [cell, (await fed.leaderStats(cell)).eventLoopDelayMaxMs] as const)));
      const cpuAfterPlace = fed.cpuSecondsByProcess();
      const placeEndMark = mark();
      const passesInPlace = (await passes()) - passesAtPlace;
      process.stderr.write(`  placed: ${options.replicas} running ${placeS.toFixed(2)} s after the submission (events: ${placeEventsAt === undefined ? "?" : ((placeEventsAt - placeStarted) / 1000).toFixed(2)} s)\n`);

      // What one reconcile pass asks of each cell: the member job's whole status.
      const memberStatusMs: Record<string, number[]> = {};
      for (const cell of cells) {
        memberStatusMs[cell] = [];
        for (let i = 0; i < 10; i++) {
          const sent = performance.now();
          await callRpc(fed.nc, subjects.api(cell, "status"), jobStatus, cell, { job: jobId(JOB, LOAD_USER, cell) }, { timeoutMs: 10_000 });
          memberStatusMs[cell].push(performance.now() - sent);
        }
      }
      // The view alone on a quiet federation: its own cost, apart from the machine being busy.
      const steadyViewMs: number[] = [];
      for (let i = 0; i < 10; i++) steadyViewMs.push((await fed.view(FEDERATED_ID, pollGateway)).ms);
      await sleep(2000); // steady: let the reconciler see everything running

      // ---- recovery: SIGKILL every master of one cell ---------------------------------------
      const masters = fed.processNames(`${lose}-master-`);
      const homeShare = placed.job.cells.find((cell) => cell.cell === lose)?.home ?? 0;
      let recoveryEventsAt: number | undefined;
      const stopWatchingRecovery = fed.onChange(() => {
        if (recoveryEventsAt === undefined && sum(fed.runningByEvents(), lose) >= options.replicas) recoveryEventsAt = performance.now();
      });
      const recoveryMark = mark();
      const passesAtRecovery = await passes();
      const recoveryByEvents = sampler(250, () => fed.runningByEvents());
      for (const name of masters) fed.kill9(name);
      const killedAt = performance.now();
      const killedWall = Date.now();
      process.stderr.write(`  killed ${masters.join(", ")}\n`);
      let unreachableAt: number | undefined;
      let placedElsewhereAt: number | undefined;
      const assignedBefore = Object.fromEntries(others.map((cell) => [cell, placed.job.cells.find((c) => c.cell === cell)?.assigned ?? 0]));
      const recoveryProgress = progress("recovery");
      const recovered = await pollUntil(
        `${options.replicas} replicas running outside ${lose}`,
        killedAt,
        (sample) => sum(sample.running, lose) >= options.replicas,
        (sample) => {
          const now = killedAt + sample.t * 1000;
          if (unreachableAt === undefined && sample.reachable[lose] === false) unreachableAt = now;
          if (placedElsewhereAt === undefined && others.some((cell) => (sample.assigned[cell] ?? 0) > (assignedBefore[cell] ?? 0))) placedElsewhereAt = now;
          recoveryProgress(sample);
        },
      );
      const recoveryS = (recovered.at - killedAt) / 1000;
      recoveryByEvents.stop();
      stopWatchingRecovery();
      const cpuAfterRecovery = fed.cpuSecondsByProcess();
      const recoveryEndMark = mark();
      const passesInRecovery = (await passes()) - passesAtRecovery;
      let rebalanceMarks: [CpuMark, CpuMark] | undefined;
      let passesInRebalance = Number.NaN;
      const healthAfterLoss = (await fed.cells(pollGateway)).cells.map((cell) => `${cell.cell}: ${cell.health}`).join(", ");
      process.stderr.write(`  recovered: ${options.replicas} running outside ${lose} ${recoveryS.toFixed(2)} s after the kill (${healthAfterLoss})\n`);

      // ---- rebalance: the lost cell's masters come back -------------------------------------
      let rebalance: { passes: number; samples: ViewSample[]; rebalanceS: number; backS: number | undefined; minRunning: number; minRunningEvents: number; passGapsMs: number[]; job: FederatedJobView } | undefined;
      let rebalanceByEvents: ReturnType<typeof sampler<Record<string, number>>> | undefined;
      let cpuAfterRebalance = cpuAfterRecovery;
      if (options.rebalance) {
        await sleep(2000);
        let minRunningEvents = eventsTotal();
        const stopWatching = fed.onChange(() => (minRunningEvents = Math.min(minRunningEvents, eventsTotal())));
        const rebalanceMark = mark();
        const passesAtRebalance = await passes();
        rebalanceByEvents = sampler(250, () => fed.runningByEvents());
        const restartedAt = performance.now();
        const restartedWall = Date.now();
        for (const name of masters) await fed.restart(name);
        process.stderr.write(`  restarted ${masters.join(", ")}\n`);
        let backAt: number | undefined;
        let minRunning = Infinity;
        const rebalanceProgress = progress("rebalance");
        const done = await pollUntil(
          `${lose} back and every cell at its home share`,
          restartedAt,
          (sample, job) => job.cells.every((cell) => cell.reachable && cell.assigned === cell.home && cell.running === cell.home),
          (sample) => {
            const allReachable = Object.values(sample.reachable).every(Boolean);
            rebalanceProgress(sample);
            if (!allReachable) return;
            backAt ??= restartedAt + sample.t * 1000;
            minRunning = Math.min(minRunning, sum(sample.running));
          },
        );
        rebalanceByEvents.stop();
        stopWatching();
        // Each rebalancing decision is one reconcile pass that stopped extras: their spacing is the passes' pace.
        const steps = done.job.events.filter((event) => event.at >= restartedWall && event.text.startsWith("rebalancing")).map((event) => event.at);
        const passGapsMs = steps.slice(1).map((at, i) => at - steps[i]!);
        rebalance = { passes: steps.length, samples: done.samples, rebalanceS: (done.at - restartedAt) / 1000, backS: backAt === undefined ? undefined : (backAt - restartedAt) / 1000, minRunning, minRunningEvents, passGapsMs, job: done.job };
        cpuAfterRebalance = fed.cpuSecondsByProcess();
        rebalanceMarks = [rebalanceMark, mark()];
        passesInRebalance = (await passes()) - passesAtRebalance;
        process.stderr.write(`  rebalanced: ${rebalance.rebalanceS.toFixed(2)} s after the restart; lowest running seen ${minRunning} (events: ${minRunningEvents})\n`);
      }

      // Before the kill nothing should have moved: a cell called down then (its leader too slow to answer the gateway for cell-down-after) had its share placed elsewhere.
      const movedBeforeKill = (rebalance?.job ?? recovered.job).events.filter((event) => event.at < killedWall && event.text.startsWith("placed"));
      const epochsAtEnd = Object.fromEntries(await Promise.all(cells.map(async (cell) => [cell, (await fed.leaderStats(cell)).epoch] as const)));
      const unexpectedFailovers = others.filter((cell) => epochsAtEnd[cell] !== epochsAtStart[cell]);
      const views = viewMs.map((v) => v.ms);

      const perCellSeries = (samples: readonly ViewSample[], except?: string) => [
        ...cells.map((cell) => ({ label: `running in ${cell}`, points: samples.map((s) => ({ x: s.t, y: s.running[cell] ?? 0 })) })),
        { label: except === undefined ? "running, all cells" : `running outside ${except}`, points: samples.map((s) => ({ x: s.t, y: sum(s.running, except) })) },
      ];
      const eventSeries = (samples: readonly { t: number; value: Record<string, number> }[], label: string, except?: string) => ({
        label,
        points: samples.map((s) => ({ x: s.t, y: sum(s.value, except) })),
      });
      const charts: ChartSpec[] = [
        {
          title: `Placing ${options.replicas.toLocaleString("en-US")} replicas over ${cells.join(", ")} (federated view, every ${options.pollMs} ms)`,
          xLabel: "seconds since the submission",
          yLabel: "replicas running",
          series: [...perCellSeries(placed.samples), eventSeries(placeByEvents.samples, "running, all cells (leaders' committed changes)")],
        },
        {
          title: `Every master of cell ${lose} SIGKILLed: its ${homeShare.toLocaleString("en-US")} replicas placed elsewhere (cell-down-after ${options.cellDownAfterMs / 1000} s)`,
          xLabel: "seconds since the kill",
          yLabel: "replicas running",
          series: [
            ...perCellSeries(recovered.samples, lose),
            eventSeries(recoveryByEvents.samples, `running outside ${lose} (leaders' committed changes)`, lose),
            { label: "cell-down-after", points: [{ x: options.cellDownAfterMs / 1000, y: 0 }, { x: options.cellDownAfterMs / 1000, y: options.replicas }] },
          ],
        },
      ];
      if (rebalance !== undefined && rebalanceByEvents !== undefined) {
        charts.push({
          title: `Cell ${lose}'s masters restarted: extras in ${others.join(", ")} stopped (max_disruption ${options.maxDisruption}); running must stay ≥ ${options.replicas.toLocaleString("en-US")}`,
          xLabel: "seconds since the restart",
          yLabel: "replicas running",
          series: [...perCellSeries(rebalance.samples), eventSeries(rebalanceByEvents.samples, "running, all cells (leaders' committed changes)")],
        });
      }
      charts.push({
        title: `GET /v1/jobs/${FEDERATED_ID} on ${fed.gateways.length > 1 ? `gateway-${pollGateway}` : "the gateway"}: time to answer`,
        xLabel: "seconds since the run began",
        yLabel: "milliseconds",
        series: [{ label: "view", points: viewMs.map((v) => ({ x: v.t, y: v.ms })) }],
      });

      const cpuAtEnd = fed.cpuSecondsByProcess();
      return {
        config: {
          ...options,
          cells: cells.join(","),
          hollowMachinesEach: Math.ceil(options.machinesPerCell / options.hollowProcesses),
          machineDownAfterMs: options.heartbeatMs * 3,
          reconciler,
          code: codeVersion(),
          loadAverageAtStart,
          polledGateway: fed.gateways.length > 1 ? `gateway-${pollGateway}` : "gateway",
          killed: masters.join(","),
        },
        metrics: {
          place_10k_s: placeS,
          place_events_s: placeEventsAt === undefined ? Number.NaN : (placeEventsAt - placeStarted) / 1000,
          submit_ms: submitMs,
          cell_recovery_s: recoveryS,
          cell_recovery_after_down_s: recoveryS - options.cellDownAfterMs / 1000,
          cell_unreachable_in_view_s: unreachableAt === undefined ? Number.NaN : (unreachableAt - killedAt) / 1000,
          placed_elsewhere_s: placedElsewhereAt === undefined ? Number.NaN : (placedElsewhereAt - killedAt) / 1000,
          recovery_events_s: recoveryEventsAt === undefined ? Number.NaN : (recoveryEventsAt - killedAt) / 1000,
          moved_replicas: homeShare,
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
          view_steady_ms_p50: percentile(steadyViewMs, 50),
          view_bytes_max: Math.max(...viewBytes),
          member_status_ms_p50: Object.fromEntries(Object.entries(memberStatusMs).map(([cell, ms]) => [cell, percentile(ms, 50)])),
          leader_event_loop_max_ms_during_place: leaderLoopMs,
          unexpected_failovers: unexpectedFailovers.length,
          unexpected_moves: movedBeforeKill.length,
          idle_cores: idleCores,
          /** cores used by processes not of this run, per phase: 0 on a quiet machine */
          /** the reconciler's mean time from one pass's start to the next's (its timer is 1 s after a pass ends) */
          reconcile_pass_interval_ms: {
            place: Math.round((placeEndMark.at - placeMark.at) / passesInPlace),
            recovery: Math.round((recoveryEndMark.at - recoveryMark.at) / passesInRecovery),
            ...(rebalanceMarks === undefined ? {} : { rebalance: Math.round((rebalanceMarks[1].at - rebalanceMarks[0].at) / passesInRebalance) }),
          },
          other_cores: {
            place: otherCores(placeMark, placeEndMark),
            recovery: otherCores(recoveryMark, recoveryEndMark),
            ...(rebalanceMarks === undefined ? {} : { rebalance: otherCores(...rebalanceMarks) }),
          },
          cpu_s_place: cpuByRole(placeMark.ours, cpuAfterPlace),
        },
        samples: {
          place: placed.samples,
          placeByEvents: placeByEvents.samples,
          recovery: recovered.samples,
          recoveryByEvents: recoveryByEvents.samples,
          ...(rebalance === undefined ? {} : { rebalance: rebalance.samples, rebalanceByEvents: rebalanceByEvents?.samples, rebalancePassGapsMs: rebalance.passGapsMs }),
          viewMs,
          memberStatusMs,
          steadyViewMs,
          spec: source,
          cpuSecondsRecovery: cpuByRole(cpuAfterPlace, cpuAfterRecovery),
          ...(rebalance === undefined ? {} : { cpuSecondsRebalance: cpuByRole(cpuAfterRecovery, cpuAfterRebalance) }),
          cpuSecondsByProcess: cpuAtEnd,
          epochsAtStart,
          epochsAtEnd,
          unexpectedFailovers,
          healthAfterLoss,
          events: (rebalance?.job ?? recovered.job).events,
        },
        charts,
      };
    } finally {
      await fed.stop();
    }
  },
});
