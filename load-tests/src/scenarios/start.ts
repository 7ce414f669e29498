import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import type { JobView } from "@corral/contracts";
import { pushImage } from "@corral/images";
import { defineScenario } from "../scenario.js";
import { busyboxRoot, BUSYBOX, webDir } from "../harness/busybox-root.js";
import { findLeftovers, pssBytes, removeLeftovers, rssBytes, runcSupervisors, type Leftovers } from "../harness/leftovers.js";
import { inParallel, LoadCell } from "../harness/load-cell.js";
import { machineDownEvents } from "./short-tasks.js";
import type { ChartSpec } from "../harness/result.js";
import { cdf, median } from "../harness/stats.js";
import { killAndWait, reachedOverTime, runRound, summarizeRound, type Round } from "../harness/start-round.js";
import { machineBusySeconds } from "../harness/machine-cpu.js";

export const RUNTIMES = ["host", "isolated"] as const;
export type Runtime = (typeof RUNTIMES)[number];

const IMAGE = "bench:1";
const run = promisify(execFile);
const PAGE = "hello from corral's start benchmark\n";
/** The two submissions: the first on machines that have never seen the image, the second once they have it. */
const ROUNDS = ["cold", "warm"] as const;

export const startOptions = z.object({
  replicas: z.coerce.number().int().min(1).max(1000).default(50),
  runtime: z.enum(RUNTIMES).default("host"),
  borglets: z.coerce.number().int().min(1).max(16).default(2),
  masters: z.coerce.number().int().min(1).max(5).default(3),
  /** each task's memory limit (a hard limit in the isolated runtime) */
  ram: z.string().regex(/^\d+[KMG]$/, "a size like 16M").default("16M"),
  /** per submission: until every task answers */
  timeoutS: z.coerce.number().int().min(10).default(300),
});

/**
 * The benchmark's job: `replicas` busybox web servers, each on the port it is given.
 * Isolated: from the pushed image, serving the image's /www; host: the host's busybox
 * serving `hostWebDir`.
 */
export function startJobSource(name: string, options: { replicas: number; runtime: Runtime; ram: string; hostWebDir?: string }): string {
  const isolated = options.runtime === "isolated";
  if (!isolated && options.hostWebDir === undefined) throw new Error("the host runtime serves a directory of the host: give hostWebDir");
  const served = isolated ? "/www" : options.hostWebDir!;
  return [
    `job ${name} = {`,
    ...(isolated ? [`  image = '${IMAGE}'`] : []),
    `  binary = '${BUSYBOX}'`,
    `  args = ['httpd', '-f', '-p', '%port%', '-h', '${served}']`,
    `  requirements = { cpu = 0.01  ram = ${options.ram}  ports = 1 }`,
    `  replicas = ${options.replicas}`,
    `  grace = 0s`,
    `}`,
    "",
  ].join("\n");
}

/** `runc run -d`, done when runc exits: the container keeps any pipe runc was given open, so stdio is not ours to wait on. */
function runDetached(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const runc = spawn("runc", args, { stdio: "ignore" });
    runc.once("error", reject);
    runc.once("exit", (code, signal) => (code === 0 ? resolve() : reject(new Error(`runc ${args.join(" ")}: ${code ?? signal}`))));
  });
}

/**
 * The yardstick for the isolated runtime: how long bare `runc run -d` takes to start the
 * same number of busybox web servers on this machine, as many at once as there are cores,
 * each in a bundle of its own over one shared read-only root (no overlay, no cgroup of the
 * cell's, no scheduling). They are deleted again before the cell starts.
 */
async function bareRuntimeS(dir: string, replicas: number): Promise<number> {
  const root = busyboxRoot(join(dir, "bare-root"), PAGE);
  const runcRoot = join(dir, "bare-runc");
  const ids = Array.from({ length: replicas }, (_, i) => `bare-${i}`);
  for (const id of ids) {
    const bundle = join(dir, "bare", id);
    mkdirSync(bundle, { recursive: true });
    await run("runc", ["spec", "--bundle", bundle]);
    const spec = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")) as { root: unknown; hostname: string; process: { terminal: boolean; args: string[] } };
    spec.root = { path: root, readonly: true };
    spec.hostname = id;
    spec.process.terminal = false;
    spec.process.args = ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"];
    writeFileSync(join(bundle, "config.json"), JSON.stringify(spec));
  }
  const started = performance.now();
  try {
    await inParallel(ids, cpus().length, async (id) => {
      await runDetached(["--root", runcRoot, "run", "-d", "--bundle", join(dir, "bare", id), id]);
    });
    return (performance.now() - started) / 1000;
  } finally {
    for (const id of ids) await run("runc", ["--root", runcRoot, "delete", "--force", id]).catch(() => {});
    rmSync(join(dir, "bare"), { recursive: true, force: true });
  }
}

/** The last "layer ready" any borglet logged after `since`, in seconds after it: when the image was on every machine. */
function layersReadyS(cell: LoadCell, since: number): number {
  const ready: number[] = [];
  for (const borglet of cell.cell.processes.filter((p) => p.role === "borglet")) {
    for (const line of readFileSync(borglet.log, "utf8").split("\n")) {
      if (!line.includes('"msg":"layer ready"')) continue;
      const at = Date.parse((JSON.parse(line) as { time: string }).time);
      if (at >= since) ready.push((at - since) / 1000);
    }
  }
  return ready.length === 0 ? Number.NaN : Math.max(...ready);
}

function borgletRss(cell: LoadCell): Map<string, number> {
  const rss = new Map<string, number>();
  for (const p of cell.cell.processes.filter((p) => p.role === "borglet")) rss.set(p.name, rssBytes(p.pid) ?? Number.NaN);
  return rss;
}

function tasksPerMachine(view: JobView): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const task of view.tasks) if (task.node !== undefined) counts[task.node] = (counts[task.node] ?? 0) + 1;
  return counts;
}

/** The median of a measurement over processes, skipping those gone meanwhile. */
function medianOver(pids: readonly number[], measure: (pid: number) => number | undefined): number {
  return median(pids.map(measure).filter((value) => value !== undefined));
}

/**
 * What one running task costs the machine: the web server's own memory, its container's
 * cgroup memory (which counts page cache too) and the `runc run` process that supervises
 * it, and how much its borglet grew (rough: a garbage-collected heap). Resident sizes
 * count shared pages (the binary) in full for every process; proportional ones share them out.
 */
async function perTaskCost(cell: LoadCell, round: Round, runtime: Runtime, borgletsBefore: Map<string, number>): Promise<Record<string, number>> {
  const taskPids = round.view.tasks.flatMap((task) => (task.pid === undefined ? [] : [task.pid]));
  const borgletsAfter = borgletRss(cell);
  const perMachine = tasksPerMachine(round.view);
  const growth = [...borgletsAfter].filter(([name]) => (perMachine[name] ?? 0) > 0).map(([name, after]) => (after - (borgletsBefore.get(name) ?? Number.NaN)) / perMachine[name]!);
  const cost: Record<string, number> = {
    task_rss_bytes: medianOver(taskPids, rssBytes),
    task_pss_bytes: medianOver(taskPids, pssBytes),
    borglet_rss_growth_bytes: median(growth),
  };
  if (runtime === "isolated") {
    const supervisors = runcSupervisors(cell.cell.dir);
    cost["runc_supervisors"] = supervisors.length;
    cost["runc_supervisor_rss_bytes"] = medianOver(supervisors, rssBytes);
    cost["runc_supervisor_pss_bytes"] = medianOver(supervisors, pssBytes);
    // Borglets report cgroup usage in their heartbeats; give them a few.
    let tasks = round.view.tasks;
    for (let i = 0; i < 20 && !tasks.every((task) => task.usage !== undefined); i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      tasks = (await cell.job(round.jobId))?.tasks ?? tasks;
    }
    cost["container_memory_bytes"] = median(tasks.flatMap((task) => (task.usage === undefined ? [] : [task.usage.ram])));
  }
  return cost;
}

/** Stops what the benchmark started: its jobs (so borglets remove their containers), then the cell, then whatever is left. */
async function cleanUp(cell: LoadCell, liveJobs: Set<string>): Promise<{ found: Leftovers; remaining: Leftovers }> {
  for (const jobId of liveJobs) {
    await killAndWait(cell, jobId, 60_000).catch((error: unknown) => process.stderr.write(`  could not kill ${jobId}: ${(error as Error).message}\n`));
  }
  await cell.stop();
  const found = await findLeftovers(cell.cell.dir);
  if (found.containers.length === 0 && found.mounts.length === 0) return { found, remaining: found };
  process.stderr.write(`  left behind: ${found.containers.length} containers, ${found.mounts.length} mounts; removing them\n`);
  const remaining = await removeLeftovers(cell.cell.dir, found);
  if (remaining.containers.length + remaining.mounts.length > 0) {
    process.stderr.write(`  STILL LEFT: containers ${remaining.containers.map((c) => `${c.id} (runc --root ${c.root})`).join(", ")}; mounts ${remaining.mounts.join(", ")}\n`);
  }
  return { found, remaining };
}

type Options = z.infer<typeof startOptions>;

interface Measured {
  metrics: Record<string, unknown>;
  samples: Record<string, unknown>;
  charts: ChartSpec[];
}

/** Pushes the image (isolated), then submits the job twice: cold, killed, then warm, killed. */
async function measure(cell: LoadCell, options: Options, liveJobs: Set<string>): Promise<Measured> {
  const push: Record<string, unknown> = {};
  const perRound: Record<string, unknown> = {};
  const costs: Record<string, unknown> = {};
  let hostWebDir: string | undefined;
  if (options.runtime === "isolated") {
    const root = busyboxRoot(join(cell.cell.dir, "image"), PAGE);
    const first = performance.now();
    const pushed = await pushImage(cell.nc, cell.cell.cell, IMAGE, root);
    const again = performance.now();
    const repushed = await pushImage(cell.nc, cell.cell.cell, IMAGE, root);
    const done = performance.now();
    push["push_s"] = { first: (again - first) / 1000, again: (done - again) / 1000 };
    push["push_layers_uploaded"] = { first: pushed.uploaded.length, again: repushed.uploaded.length };
    push["image_bytes"] = pushed.image.layers.reduce((sum, layer) => sum + layer.size, 0);
  } else {
    hostWebDir = webDir(join(cell.cell.dir, "www"), PAGE);
  }

  const rounds = {} as Record<(typeof ROUNDS)[number], Round>;
  for (const label of ROUNDS) {
    const name = `start_${label}`;
    const borgletsBefore = borgletRss(cell);
    const cpuBefore: Record<string, number> = { ...cell.cpuSecondsByProcess(), machine: machineBusySeconds() };
    process.stderr.write(`  ${label}: submitting ${options.replicas} replicas (${options.runtime} runtime)\n`);
    const round = await runRound(cell, {
      name,
      source: startJobSource(name, { ...options, ...(hostWebDir === undefined ? {} : { hostWebDir }) }),
      replicas: options.replicas,
      page: PAGE,
      timeoutMs: options.timeoutS * 1000,
      onSubmitted: (jobId) => liveJobs.add(jobId),
    });
    rounds[label] = round;
    const cpuAfter: Record<string, number> = { ...cell.cpuSecondsByProcess(), machine: machineBusySeconds() };
    const summary: Record<string, unknown> = {
      ...summarizeRound(round.times),
      restarts: round.view.tasks.reduce((sum, task) => sum + task.restarts, 0),
      // Where the round's cpu went: the cell's processes, and the whole machine (runc, the containers, the kernel).
      cpu_s: Object.fromEntries(Object.entries(cpuAfter).map(([name, after]) => [name, Math.round((after - (cpuBefore[name] ?? 0)) * 100) / 100])),
    };
    if (options.runtime === "isolated" && label === "cold") summary["layers_ready_s"] = layersReadyS(cell, round.submittedAt);
    if (label === "warm") {
      costs["per_task"] = await perTaskCost(cell, round, options.runtime, borgletsBefore);
      costs["tasks_per_machine"] = tasksPerMachine(round.view);
    }
    const stopping = performance.now();
    await killAndWait(cell, round.jobId, 60_000);
    liveJobs.delete(round.jobId);
    summary["stop_s"] = (performance.now() - stopping) / 1000;
    perRound[label] = summary;
    process.stderr.write(`  ${label}: all running ${(summary["all_running_s"] as number).toFixed(2)} s, all answering ${(summary["all_answering_s"] as number).toFixed(2)} s\n`);
  }

  return {
    // The headline numbers are the warm round's: what a start costs once the image is on the machines.
    metrics: { ...summarizeRound(rounds.warm.times), ...push, ...perRound, ...costs },
    samples: { cold: rounds.cold.times, warm: rounds.warm.times },
    charts: [
      {
        title: `submit → running and → answering HTTP per task, cumulative distribution (${options.runtime} runtime, ${options.replicas} replicas)`,
        xLabel: "milliseconds after the submission",
        yLabel: "fraction of tasks",
        series: ROUNDS.flatMap((label) => [
          { label: `${label}: running`, points: cdf(rounds[label].times.running.filter((ms) => ms !== undefined)) },
          { label: `${label}: answering`, points: cdf(rounds[label].times.answering.filter((ms) => ms !== undefined)) },
        ]),
      },
      {
        title: "Tasks running and answering after the submission",
        xLabel: "seconds after the submission",
        yLabel: "tasks",
        series: ROUNDS.flatMap((label) => [
          { label: `${label}: running`, points: reachedOverTime(rounds[label].times.running) },
          { label: `${label}: answering`, points: reachedOverTime(rounds[label].times.answering) },
        ]),
      },
    ],
  };
}

export const start = defineScenario({
  name: "start",
  description: "N busybox web servers on real borglets (host or isolated runtime): submit → running and → answering HTTP, cold and warm",
  options: startOptions,
  async run(options) {
    if (options.runtime === "isolated" && process.getuid?.() !== 0) throw new Error("the isolated runtime needs root (runc, cgroups, overlayfs)");
    let bare: Record<string, number> = {};
    if (options.runtime === "isolated") {
      process.stderr.write(`  bare runc: ${options.replicas} containers with runc run -d, ${cpus().length} at a time\n`);
      const dir = mkdtempSync(join(tmpdir(), "corral-bare-runc-"));
      try {
        bare = { bare_runtime_s: await bareRuntimeS(dir, options.replicas) };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      process.stderr.write(`  bare runc: ${bare["bare_runtime_s"]!.toFixed(2)} s\n`);
    }
    const cell = await LoadCell.startReal("start", {
      borglets: options.borglets,
      masters: options.masters,
      // every task could land on one machine
      portsPerBorglet: Math.max(100, options.replicas + 20),
    });
    const liveJobs = new Set<string>();
    let measured: Measured;
    let cleanup: { found: Leftovers; remaining: Leftovers };
    let downEvents = 0;
    try {
      measured = await measure(cell, options, liveJobs);
      downEvents = machineDownEvents(cell);
    } finally {
      cleanup = await cleanUp(cell, liveJobs);
    }
    const { found, remaining } = cleanup;
    return {
      config: { ...options, ...(options.runtime === "isolated" ? { image: IMAGE } : {}), cellDir: cell.cell.dir },
      metrics: {
        ...measured.metrics,
        ...bare,
        // the warm round's, against bare runc for as many containers (target: at most 1.5)
        ...(bare["bare_runtime_s"] === undefined ? {} : { ratio_to_bare: (measured.metrics["all_running_s"] as number) / bare["bare_runtime_s"] }),
        machine_down_events: downEvents,
        cleanup: {
          containers_left: found.containers.length,
          mounts_left: found.mounts.length,
          still_left_after_removal: remaining.containers.length + remaining.mounts.length,
        },
      },
      samples: measured.samples,
      charts: measured.charts,
    };
  },
});
