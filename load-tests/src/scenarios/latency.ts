import { z } from "zod";
import { defineScenario } from "../scenario.js";
import { LoadCell } from "../harness/load-cell.js";
import { cdf, distribution } from "../harness/stats.js";
import { generateJobs, toBorg } from "../harness/workload.js";

function oneTaskJob(name: string): string {
  return `job ${name} = {\n  binary = 'hollow'\n  replicas = 1\n  requirements = { cpu = 0.1  ram = 64M }\n}\n`;
}

/** Submits one single-task job at a time and times submit → running as the leader commits it. */
async function measure(cell: LoadCell, prefix: string, samples: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const name = `${prefix}_${i}`;
    const taskId = `0.${name}.loadtest.${cell.cell.cell}`;
    const started = performance.now();
    const result = await cell.submit(oneTaskJob(name));
    if (result.status !== 201) throw new Error(`submit refused: ${result.error}`);
    await cell.timeline.until(() => cell.timeline.lastState.get(taskId)?.state === "running", 30_000, `${taskId} running`);
    latencies.push(performance.now() - started);
  }
  return latencies;
}

export const latency = defineScenario({
  name: "latency",
  description: "one task at a time, on an idle and on a loaded cell: submit → running p50/p99",
  options: z.object({
    machines: z.coerce.number().int().min(1).default(1000),
    samples: z.coerce.number().int().min(1).default(200),
    loadJobsPerS: z.coerce.number().min(0).default(20),
    seed: z.coerce.number().int().default(1),
  }),
  async run(options) {
    const cell = await LoadCell.start("latency", { masters: 3, hollow: { processes: 1, machinesEach: options.machines } });
    try {
      // A few warm-up rounds so code paths are compiled before measuring.
      await measure(cell, "warmup", 10);
      const idle = await measure(cell, "idle", options.samples);

      // Background load: batch jobs arriving steadily, finishing after a few seconds.
      const background = generateJobs({ seed: options.seed, tasks: 1_000_000, meanReplicas: 5, batchRunMs: [1000, 5000], prefix: "bg" });
      let next = 0;
      let stopped = false;
      const load = (async () => {
        const interval = 1000 / Math.max(0.001, options.loadJobsPerS);
        while (!stopped && options.loadJobsPerS > 0) {
          const job = background[next++]!;
          void cell.submit(toBorg(job));
          await new Promise((resolve) => setTimeout(resolve, interval));
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const loaded = await measure(cell, "loaded", options.samples);
      stopped = true;
      await load;

      return {
        config: options,
        metrics: {
          submit_to_running_ms: distribution(idle),
          loaded_submit_to_running_ms: distribution(loaded),
          background_jobs_submitted: next,
        },
        samples: { idle, loaded },
        charts: [
          {
            title: "submit → running, cumulative distribution",
            xLabel: "milliseconds",
            yLabel: "fraction of submissions",
            series: [
              { label: "idle cell", points: cdf(idle) },
              { label: "loaded cell", points: cdf(loaded) },
            ],
          },
        ],
      };
    } finally {
      await cell.stop();
    }
  },
});
