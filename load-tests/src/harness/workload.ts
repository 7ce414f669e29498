import type { PriorityBand } from "@corral/contracts";
import { pickWeighted, seededRandom } from "@corral/kit";

export interface GeneratedJob {
  name: string;
  replicas: number;
  cpu: number;
  ramMiB: number;
  priority: PriorityBand;
  /** batch work finishes after this long on a hollow machine; services run until killed */
  runMs?: number;
}

const BANDS: readonly [PriorityBand, number][] = [
  ["monitoring", 0.02],
  ["production", 0.38],
  ["batch", 0.45],
  ["best-effort", 0.15],
];


/**
 * A trace-like mix (after the Borg traces): many small tasks, a few large ones; about
 * half the work is batch with durations, the rest long-running services.
 */
export function generateJobs(options: { seed: number; tasks: number; meanReplicas?: number; batchRunMs?: [number, number]; prefix?: string }): GeneratedJob[] {
  const random = seededRandom(options.seed);
  const mean = options.meanReplicas ?? 10;
  const jobs: GeneratedJob[] = [];
  let remaining = options.tasks;
  while (remaining > 0) {
    const replicas = Math.min(remaining, Math.max(1, Math.round(-Math.log(1 - random()) * mean)));
    const size = pickWeighted(random, [["small", 0.8], ["medium", 0.15], ["large", 0.05]] as const);
    const cpu = size === "small" ? 0.05 + random() * 0.45 : size === "medium" ? 1 + random() : 2 + random() * 2;
    const ramMiB = size === "small" ? 64 + Math.floor(random() * 960) : size === "medium" ? 2048 + Math.floor(random() * 2048) : 4096 + Math.floor(random() * 4096);
    const priority = pickWeighted(random, BANDS);
    const job: GeneratedJob = { name: `${options.prefix ?? "load"}_${jobs.length}`, replicas, cpu: Math.round(cpu * 100) / 100, ramMiB, priority };
    if ((priority === "batch" || priority === "best-effort") && options.batchRunMs !== undefined) {
      const [low, high] = options.batchRunMs;
      job.runMs = Math.round(low + random() * (high - low));
    }
    jobs.push(job);
    remaining -= replicas;
  }
  return jobs;
}

/**
 * The job in Borg syntax, as a user would submit it. (Borg syntax also parses about ten
 * times faster than YAML here, which matters when the gateway takes thousands a second.)
 */
export function toBorg(job: GeneratedJob): string {
  const lines = [
    `job ${job.name} = {`,
    "  binary = 'hollow'",
    `  replicas = ${job.replicas}`,
    `  priority = '${job.priority}'`,
    `  restart = '${job.runMs === undefined ? "always" : "on-failure"}'`,
    `  requirements = { cpu = ${job.cpu}  ram = ${job.ramMiB}M }`,
  ];
  if (job.runMs !== undefined) lines.push(`  env = { HOLLOW_RUN_MS = '${job.runMs}' }`);
  return lines.join("\n") + "\n}\n";
}
