import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { promisify } from "node:util";
import { z } from "zod";
import { jobId, taskId } from "@corral/contracts";
import { defineScenario } from "../scenario.js";
import { LOAD_USER, LoadCell, sampler } from "../harness/load-cell.js";
import { distribution } from "../harness/stats.js";

const TRUE = "/bin/true";
const run = promisify(execFile);

export const shortTasksOptions = z.object({
  borglets: z.coerce.number().int().min(1).max(16).default(2),
  tasks: z.coerce.number().int().min(1).max(100_000).default(2000),
  masters: z.coerce.number().int().min(1).max(5).default(3),
  /** the masters' --down-after; a local cell's default */
  downAfterMs: z.coerce.number().int().min(500).default(5000),
  /** the borglets' --heartbeat; a local cell's default */
  heartbeatMs: z.coerce.number().int().min(50).default(1000),
  /** the bare-node baseline: this many spawns of /bin/true … */
  bareSpawns: z.coerce.number().int().min(10).default(2000),
  /** … with at most this many in flight */
  bareInFlight: z.coerce.number().int().min(1).max(1024).default(64),
  /** until every task is dead */
  timeoutS: z.coerce.number().int().min(10).default(600),
});

/**
 * What node itself manages on this machine: spawn /bin/true and wait for its exit, with up
 * to `inFlight` at once, in a fresh plain node process (no TypeScript loader: fork costs
 * grow with the caller's memory, and this load generator is large). fork and exec are slow
 * here, so this is the fair yardstick for the cell's rate rather than an absolute number.
 */
export async function bareSpawnPerS(spawns: number, inFlight: number): Promise<number> {
  const script = `
    import { spawn } from "node:child_process";
    const [spawns, inFlight] = [${spawns}, ${inFlight}];
    let next = 0;
    const one = () => new Promise((resolve, reject) => {
      const child = spawn(${JSON.stringify(TRUE)}, [], { stdio: "ignore", detached: true });
      child.once("error", reject);
      child.once("exit", resolve);
    });
    const started = performance.now();
    await Promise.all(Array.from({ length: Math.min(inFlight, spawns) }, async () => { while (next < spawns) { next += 1; await one(); } }));
    process.stdout.write(String(spawns / ((performance.now() - started) / 1000)));
  `;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], { maxBuffer: 1 << 16 });
  const rate = Number(stdout);
  if (!Number.isFinite(rate) || rate <= 0) throw new Error(`the bare spawn measurement said '${stdout.slice(0, 100)}'`);
  return rate;
}

/** Lines of the leader's log (any master's: only a leader says it) that mark a machine down. */
export function machineDownEvents(cell: LoadCell): number {
  let count = 0;
  for (const master of cell.cell.processes.filter((p) => p.role === "master")) {
    for (const line of readFileSync(master.log, "utf8").split("\n")) if (line.includes('"msg":"machine down"')) count += 1;
  }
  return count;
}

/** How many times each task's process was started, from the borglets' own logs: the ground truth for "ran once". */
function startsPerTask(cell: LoadCell, jobName: string): Map<string, number> {
  const starts = new Map<string, number>();
  for (const borglet of cell.cell.processes.filter((p) => p.role === "borglet")) {
    for (const line of readFileSync(borglet.log, "utf8").split("\n")) {
      if (!line.includes('"msg":"task started"') || !line.includes(jobName)) continue;
      const task = (JSON.parse(line) as { task?: string }).task;
      if (task !== undefined) starts.set(task, (starts.get(task) ?? 0) + 1);
    }
  }
  return starts;
}

export function shortTasksJobSource(name: string, tasks: number): string {
  return [
    `job ${name} = {`,
    `  binary = '${TRUE}'`,
    `  restart = 'never'`,
    `  priority = 'batch'`,
    `  requirements = { cpu = 0.001  ram = 1M  disk = 1M }`,
    `  replicas = ${tasks}`,
    `  grace = 0s`,
    `}`,
    "",
  ].join("\n");
}

export const shortTasks = defineScenario({
  name: "short-tasks",
  description: "one batch job of N /bin/true tasks on real borglets: tasks/s against bare node spawns/s, machine-down events, each task run exactly once",
  options: shortTasksOptions,
  async run(options) {
    process.stderr.write(`  bare node: ${options.bareSpawns} spawns of ${TRUE}, up to ${options.bareInFlight} in flight\n`);
    const bare = await bareSpawnPerS(options.bareSpawns, options.bareInFlight);
    process.stderr.write(`  bare node: ${bare.toFixed(0)} spawns/s\n`);
    const cell = await LoadCell.startReal("short-tasks", {
      borglets: options.borglets,
      masters: options.masters,
      downAfterMs: options.downAfterMs,
      heartbeatMs: options.heartbeatMs,
      // The borglets share this host: each offers its share, as `borglet --host-share N` does.
      borgletCapacity: { cpu: Math.floor((cpus().length / options.borglets) * 1000) / 1000, ram: `${Math.floor(totalmem() / options.borglets / 2 ** 20)}M` },
    });
    try {
      const name = "short_tasks";
      const taskIds = Array.from({ length: options.tasks }, (_, index) => taskId(index, jobId(name, LOAD_USER, cell.cell.cell)));
      const dead = () => taskIds.reduce((sum, id) => sum + (cell.timeline.lastState.get(id)?.state === "dead" ? 1 : 0), 0);
      const progress = sampler(500, dead);
      const cpuBefore = cell.cpuSecondsByProcess();
      const submittedAt = Date.now();
      const submitted = await cell.submit(shortTasksJobSource(name, options.tasks));
      if (submitted.status !== 201 || submitted.job === undefined) throw new Error(`submit refused (${submitted.status}): ${submitted.error}`);
      process.stderr.write(`  submitted ${options.tasks} tasks on ${options.borglets} borglets\n`);
      await cell.timeline.until(() => taskIds.every((id) => cell.timeline.lastState.get(id)?.state === "dead"), options.timeoutS * 1000, `all ${options.tasks} tasks dead`);
      const elapsedS = (Date.now() - submittedAt) / 1000;
      progress.stop();
      const cpuAfter = cell.cpuSecondsByProcess();
      const tasksPerS = options.tasks / elapsedS;

      const view = await cell.job(submitted.job.id);
      if (view === undefined) throw new Error(`job ${submitted.job.id} vanished`);
      const starts = startsPerTask(cell, `${name}.${LOAD_USER}`);
      const byStarts = { never: 0, once: 0, more: 0 };
      for (const id of taskIds) {
        const n = starts.get(id) ?? 0;
        byStarts[n === 0 ? "never" : n === 1 ? "once" : "more"] += 1;
      }
      const notDone = view.tasks.filter((task) => task.state !== "dead" || task.exitCode !== 0);
      const incarnations = view.tasks.map((task) => task.incarnation);
      const downEvents = machineDownEvents(cell);
      const cpu = Object.fromEntries(Object.entries(cpuAfter).map(([process, after]) => [process, after - (cpuBefore[process] ?? 0)]));
      process.stderr.write(`  ${options.tasks} tasks dead after ${elapsedS.toFixed(2)} s: ${tasksPerS.toFixed(0)} tasks/s (${(tasksPerS / bare).toFixed(2)} of bare); machine down ${downEvents} times\n`);
      return {
        config: { ...options, cellDir: cell.cell.dir },
        metrics: {
          tasks_per_s: tasksPerS,
          bare_spawn_per_s: bare,
          ratio_to_bare: tasksPerS / bare,
          machine_down_events: downEvents,
          all_done_s: elapsedS,
          // exactly once: each task's process started once, and the task ended done (exit 0)
          ran_exactly_once: byStarts.once,
          ran_never: byStarts.never,
          ran_more_than_once: byStarts.more,
          not_done: notDone.length,
          exactly_once: byStarts.once === options.tasks && notDone.length === 0,
          incarnations: distribution(incarnations),
          restarts: view.tasks.reduce((sum, task) => sum + task.restarts, 0),
          cpu_s: cpu,
        },
        samples: { dead: progress.samples },
        charts: [
          {
            title: `Tasks done after the submission (${options.tasks} × ${TRUE}, ${options.borglets} borglets)`,
            xLabel: "seconds after the submission",
            yLabel: "tasks dead",
            series: [{ label: "done", points: progress.samples.map((s) => ({ x: s.t, y: s.value })) }],
          },
        ],
      };
    } finally {
      await cell.stop();
    }
  },
});
