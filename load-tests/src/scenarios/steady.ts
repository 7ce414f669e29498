import { availableParallelism } from "node:os";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { defineScenario } from "../scenario.js";
import { CpuHog } from "../harness/cpu-hog.js";
import { inParallel, LoadCell, sampler } from "../harness/load-cell.js";
import { cpuSecondsOf } from "../harness/process-cpu.js";
import { distribution } from "../harness/stats.js";
import { generateJobs, toBorg } from "../harness/workload.js";

/** The smallest lease-renewal margin any master reported (seconds), from their /metrics. */
async function leaseSlackMinS(metricsUrls: readonly string[]): Promise<number | undefined> {
  let smallest: number | undefined;
  for (const url of metricsUrls) {
    const text = await fetch(url, { signal: AbortSignal.timeout(5000) }).then((response) => response.text(), () => "");
    for (const match of text.matchAll(/^corral_master_lease_slack_min_seconds(?:\{[^}]*\})? (\S+)$/gm)) {
      const value = Number(match[1]);
      if (Number.isFinite(value)) smallest = Math.min(smallest ?? value, value);
    }
  }
  return smallest;
}

export const steady = defineScenario({
  name: "steady",
  description: "a loaded cell under churn for a while, beside a CPU hog on every core: leader changes (must be 0), lease slack, submit latency",
  options: z.object({
    machines: z.coerce.number().int().min(1).default(10_000),
    tasks: z.coerce.number().int().min(0).default(100_000),
    durationS: z.coerce.number().min(1).default(600),
    /** batch jobs per second submitted (and finishing) during the run; every tenth is killed */
    jobsPerS: z.coerce.number().min(0.1).default(10),
    /** busy-looping processes beside the cell; 0 for none (default one per core) */
    hog: z.coerce.number().int().min(0).max(64).default(availableParallelism()),
    masters: z.coerce.number().int().min(1).max(9).default(5),
    /** the masters' lease; default the master's own */
    leaseTtlMs: z.coerce.number().int().min(300).optional(),
    seed: z.coerce.number().int().default(1),
  }),
  async run(options) {
    const processes = Math.max(1, Math.ceil(options.machines / 5000));
    // The hog starts before the cell: loading 100,000 tasks on a busy machine must not cost a leader its term either.
    const hog = new CpuHog(options.hog);
    const cell = await LoadCell.start("steady", {
      masters: options.masters,
      ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
      heartbeatMs: 5000,
      downAfterMs: 15_000,
      hollow: { processes, machinesEach: Math.ceil(options.machines / processes) },
    });
    try {
      const first = await cell.masterStats(false);
      const jobs = generateJobs({ seed: options.seed, tasks: options.tasks });
      let loaded = 0;
      await inParallel(jobs, 64, async (job) => {
        if ((await cell.submit(toBorg(job))).status === 201) loaded += job.replicas;
      });
      await cell.timeline.until(() => cell.timeline.runningCount >= loaded, 1_200_000, `${loaded} tasks running`);
      process.stderr.write(`  ${loaded} tasks running; churn for ${options.durationS} s\n`);

      const epochs = sampler(1000, async () => (await cell.masterStats(false)).epoch);
      const leaderUse = sampler(2000, () => cell.masterStats(false));
      const churn = generateJobs({ seed: options.seed + 1, tasks: Math.ceil(options.jobsPerS * options.durationS * 5) + 10, meanReplicas: 5, batchRunMs: [2000, 10_000], prefix: "steady" });
      const submitMs: { t: number; ms: number }[] = [];
      const killMs: number[] = [];
      let refused = 0;
      const started = Date.now();
      const inFlight: Promise<void>[] = [];
      for (let i = 0; i < churn.length && Date.now() - started < options.durationS * 1000; i++) {
        const job = churn[i]!;
        inFlight.push(
          (async () => {
            const sent = performance.now();
            const result = await cell.submit(toBorg(job)).catch(() => undefined);
            if (result?.job === undefined) {
              refused += 1;
              return;
            }
            submitMs.push({ t: (Date.now() - started) / 1000, ms: performance.now() - sent });
            if (i % 10 === 0) {
              const killSent = performance.now();
              if ((await cell.kill(result.job.id).catch(() => 0)) === 202) killMs.push(performance.now() - killSent);
            }
          })(),
        );
        const due = started + (i + 1) * (1000 / options.jobsPerS);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      }
      await Promise.all(inFlight);
      epochs.stop();
      leaderUse.stop();
      const last = await cell.masterStats(false);
      const masters = cell.cell.processes.filter((p) => p.role === "master");
      const stepDowns = masters.reduce((sum, p) => sum + [...readFileSync(p.log, "utf8").matchAll(/"msg":"stepping down"/g)].length, 0);
      const masterUrls = cell.cell.metrics ?? [];
      const hogCpu = Object.entries(cpuSecondsOf(hog.pids.map((pid, i) => ({ name: `hog-${i}`, pid }))))
        .filter(([name]) => name.startsWith("hog-"))
        .reduce((sum, [, seconds]) => sum + seconds, 0);
      const submits = submitMs.map((s) => s.ms);
      return {
        config: { ...options, hollowProcesses: processes },
        metrics: {
          leader_changes: last.epoch - first.epoch,
          step_downs: stepDowns,
          lease_slack_min_s: (await leaseSlackMinS(masterUrls)) ?? Number.NaN,
          submit_ms: distribution(submits),
          kill_ms: distribution(killMs),
          submissions_refused: refused,
          tasks_in_state: loaded,
          churn_jobs: submits.length,
          leader_event_loop_max_ms: Math.max(0, ...leaderUse.samples.map((s) => s.value.eventLoopDelayMaxMs)),
          hog_processes: options.hog,
          hog_cpu_s: Math.round(hogCpu * 10) / 10,
          cpu_s_by_process: cell.cpuSecondsByProcess(),
        },
        headline: ["leader_changes", "lease_slack_min_s", "submit_ms.p50", "submit_ms.p99", "leader_event_loop_max_ms", "hog_cpu_s"],
        samples: { epochs: epochs.samples, submitMs },
        charts: [
          {
            title: "Submit latency during the run (a CPU hog on every core)",
            xLabel: "seconds since the churn began",
            yLabel: "milliseconds",
            series: [{ label: "submit → acknowledged", points: submitMs.map((s) => ({ x: s.t, y: s.ms })) }],
          },
          {
            title: "The leader's epoch (flat: no leader change)",
            xLabel: "seconds since the churn began",
            yLabel: "epoch",
            series: [{ label: "epoch", points: epochs.samples.map((s) => ({ x: s.t, y: s.value })) }],
          },
        ],
      };
    } finally {
      hog.stop();
      await cell.stop();
    }
  },
});
