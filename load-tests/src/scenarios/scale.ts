import { z } from "zod";
import { defineScenario } from "../scenario.js";
import { barChart, leaderMemoryChart } from "../harness/charts.js";
import { failoverChart, killLeaderAndTime } from "../harness/leader-kill.js";
import type { GatewayClient } from "@corral/client";
import { inParallel, LoadCell, sampler } from "../harness/load-cell.js";
import { distribution } from "../harness/stats.js";
import { generateJobs, toBorg } from "../harness/workload.js";

/** Times a GET of `path` against the gateway `times` times; fails on any answer but 200. */
async function timeReads(gateway: GatewayClient, path: string, times: number): Promise<{ ms: number[]; bytes: number }> {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < times; i++) {
    const sent = performance.now();
    const reply = await gateway.send("GET", path);
    ms.push(performance.now() - sent);
    if (reply.status !== 200) throw new Error(`${path}: ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`);
    bytes = reply.bytes;
  }
  return { ms, bytes };
}

export const scale = defineScenario({
  name: "scale",
  description: "a big cell (50,000 hollow machines, 1,000,000 tasks): leader memory per task, list and job reads through the gateway, and leader failover",
  options: z.object({
    machines: z.coerce.number().int().min(1).default(50_000),
    tasks: z.coerce.number().int().min(1).default(1_000_000),
    kills: z.coerce.number().int().min(0).default(5),
    reads: z.coerce.number().int().min(1).default(20),
    concurrency: z.coerce.number().int().min(1).max(1024).default(64),
    seed: z.coerce.number().int().default(1),
    timeoutS: z.coerce.number().min(1).default(3600),
  }),
  async run(options) {
    const processes = Math.max(1, Math.ceil(options.machines / 5000));
    const cell = await LoadCell.start("scale", {
      masters: 5,
      heartbeatMs: 5000,
      downAfterMs: 15_000,
      hollow: { processes, machinesEach: Math.ceil(options.machines / processes) },
    });
    try {
      const before = await cell.masterStats(true);
      const jobs = generateJobs({ seed: options.seed, tasks: options.tasks });
      let submitted = 0;
      let refused = 0;
      const masterUse = sampler(5000, () => cell.masterStats(false));
      const progress = setInterval(() => process.stderr.write(`  ${submitted.toLocaleString("en-US")} tasks accepted, ${cell.timeline.runningCount.toLocaleString("en-US")} running\n`), 30_000);
      const started = Date.now();
      try {
        await inParallel(jobs, options.concurrency, async (job) => {
          const result = await cell.submit(toBorg(job));
          if (result.status === 201) submitted += job.replicas;
          else refused += 1;
        });
        await cell.timeline.until(() => cell.timeline.runningCount >= submitted, options.timeoutS * 1000, `${submitted} tasks running`);
      } finally {
        clearInterval(progress);
      }
      const loadedS = (Date.now() - started) / 1000;
      const after = await cell.masterStats(true);
      masterUse.stop();

      // What people read in a big cell: the first page of the job list, a page further on, and one big job.
      const gateway = cell.gateway;
      const firstPage = await timeReads(gateway, "/v1/jobs?user=loadtest", options.reads);
      const biggest = jobs.reduce((best, job) => (job.replicas > best.replicas ? job : best));
      const jobView = await timeReads(gateway, `/v1/jobs/${biggest.name}.loadtest.local`, options.reads);
      const listed = (await gateway.send<{ continue?: string }>("GET", "/v1/jobs?limit=1000")).body;
      const laterPage = await timeReads(gateway, `/v1/jobs?limit=1000${listed.continue === undefined ? "" : `&continue=${encodeURIComponent(listed.continue)}`}`, options.reads);

      const acknowledged = new Set<string>();
      const failoverMs: number[] = [];
      for (let i = 0; i < options.kills; i++) {
        failoverMs.push(await killLeaderAndTime(cell, `scale_probe_${i}`, (id) => acknowledged.add(id)));
        process.stderr.write(`  kill ${i + 1}/${options.kills}: ${Math.round(failoverMs.at(-1)!)} ms\n`);
      }
      let lost = 0;
      await inParallel([...acknowledged], 8, async (id) => {
        if ((await cell.job(id)) === undefined) lost += 1;
      });
      return {
        config: { ...options, hollowProcesses: processes, jobs: jobs.length, masters: 5 },
        metrics: {
          tasks_running: cell.timeline.runningCount,
          submissions_refused: refused,
          loaded_s: loadedS,
          leader_bytes_per_task: Math.round((after.heapUsedBytes - before.heapUsedBytes) / Math.max(1, submitted)),
          leader_heap_bytes: after.heapUsedBytes,
          leader_rss_bytes: after.rssBytes,
          list_first_page_ms: distribution(firstPage.ms),
          list_first_page_bytes: firstPage.bytes,
          list_page_of_1000_ms: distribution(laterPage.ms),
          list_page_of_1000_bytes: laterPage.bytes,
          biggest_job_tasks: biggest.replicas,
          job_view_ms: distribution(jobView.ms),
          job_view_bytes: jobView.bytes,
          failover_ms: distribution(failoverMs),
          failover_lost: lost,
          duplicated: cell.timeline.runningOnTwoMachines,
        },
        samples: { failoverMs, master: masterUse.samples },
        headline: ["leader_bytes_per_task", "failover_ms.p99", "failover_ms.max", "list_first_page_ms.p99", "job_view_ms.p99", "failover_lost", "duplicated"],
        charts: [
          failoverChart(failoverMs),
          barChart({
            title: "Reads through the gateway, p99",
            xLabel: "read",
            unit: "milliseconds",
            categories: ["first page of jobs", "a page of 1,000 jobs", `a job of ${biggest.replicas} tasks`],
            values: [firstPage.ms, laterPage.ms, jobView.ms].map((ms) => Math.round(distribution(ms).p99)),
          }),
          leaderMemoryChart(masterUse.samples),
        ],
      };
    } finally {
      await cell.stop();
    }
  },
});
