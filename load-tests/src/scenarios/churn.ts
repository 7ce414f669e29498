import { z } from "zod";
import { defineScenario } from "../scenario.js";
import { leaderMemoryChart } from "../harness/charts.js";
import { LoadCell, sampler } from "../harness/load-cell.js";
import { cdf, distribution } from "../harness/stats.js";
import { generateJobs, toBorg } from "../harness/workload.js";

export const churn = defineScenario({
  name: "churn",
  description: "steady arrivals and completions of batch work for a set time: scheduling delay, leader cpu and memory",
  options: z.object({
    machines: z.coerce.number().int().min(1).default(1000),
    jobsPerS: z.coerce.number().min(0.1).default(50),
    durationS: z.coerce.number().min(1).default(60),
    runMinMs: z.coerce.number().int().min(0).default(2000),
    runMaxMs: z.coerce.number().int().min(0).default(10_000),
    seed: z.coerce.number().int().default(1),
  }),
  async run(options) {
    const cell = await LoadCell.start("churn", { masters: 3, hollow: { processes: 1, machinesEach: options.machines } });
    try {
      const jobs = generateJobs({
        seed: options.seed,
        tasks: Math.ceil(options.jobsPerS * options.durationS * 5) + 10,
        meanReplicas: 5,
        batchRunMs: [options.runMinMs, options.runMaxMs],
        prefix: "churn",
      }).map((job) => ({ ...job, runMs: job.runMs ?? options.runMinMs }));
      const acceptedAt = new Map<string, number>();
      const masterUse = sampler(1000, () => cell.masterStats(false));
      const progress = sampler(500, () => ({ running: cell.timeline.runningCount }));
      const before = await cell.masterStats(false);
      const started = Date.now();
      const interval = 1000 / options.jobsPerS;
      let submitted = 0;
      const inFlight: Promise<void>[] = [];
      while (Date.now() - started < options.durationS * 1000 && submitted < jobs.length) {
        const job = jobs[submitted++]!;
        inFlight.push(
          cell.submit(toBorg(job)).then((result) => {
            if (result.job !== undefined) acceptedAt.set(result.job.id, Date.now());
          }),
        );
        const due = started + submitted * interval;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      }
      await Promise.all(inFlight);
      const elapsedS = (Date.now() - started) / 1000;
      masterUse.stop();
      progress.stop();
      const after = await cell.masterStats(false);

      // Scheduling delay: acknowledged submission → first assignment of each task.
      const delays: number[] = [];
      let completed = 0;
      for (const [taskId, states] of cell.timeline.firstSeen) {
        const jobId = taskId.slice(taskId.indexOf(".") + 1);
        const accepted = acceptedAt.get(jobId);
        const assigned = states.get("assigned#0");
        if (accepted !== undefined && assigned !== undefined) delays.push(Math.max(0, assigned - accepted));
        for (const key of states.keys()) if (key.startsWith("dead#")) completed += 1;
      }
      const cpuS = (after.cpuUserMicros + after.cpuSystemMicros - before.cpuUserMicros - before.cpuSystemMicros) / 1e6;
      return {
        config: options,
        metrics: {
          scheduling_delay_ms: distribution(delays),
          jobs_submitted: submitted,
          tasks_completed: completed,
          master_cpu_percent: Math.round((cpuS / elapsedS) * 1000) / 10,
          master_rss_max_bytes: Math.max(...masterUse.samples.map((s) => s.value.rssBytes), after.rssBytes),
          master_heap_end_bytes: after.heapUsedBytes,
        },
        samples: { delays, master: masterUse.samples, progress: progress.samples },
        charts: [
          { title: "Scheduling delay, cumulative distribution", xLabel: "milliseconds", yLabel: "fraction of tasks", series: [{ label: "accepted → assigned", points: cdf(delays) }] },
          { title: "Running tasks", xLabel: "seconds", yLabel: "tasks", series: [{ label: "running", points: progress.samples.map((s) => ({ x: s.t, y: s.value.running })) }] },
          leaderMemoryChart(masterUse.samples),
        ],
      };
    } finally {
      await cell.stop();
    }
  },
});
