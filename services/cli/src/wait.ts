import { SingleBar, Presets } from "cli-progress";
import type { JobView } from "@corral/contracts";
import type { GatewayClient } from "@corral/client";

/**
 * Polls a job until `done` says so, drawing a progress bar on stderr for people (not when
 * stderr is not a terminal or output is JSON). Fails early when `failed` finds a reason.
 */
export async function waitForJob(
  client: GatewayClient,
  id: string,
  options: {
    label: string;
    count: (job: JobView) => number;
    done: (job: JobView) => boolean;
    failed?: (job: JobView) => string | undefined;
    timeoutMs: number;
    quiet: boolean;
  },
): Promise<JobView> {
  const showBar = !options.quiet && process.stderr.isTTY === true;
  const bar = new SingleBar({ format: `${options.label} [{bar}] {value}/{total} {detail}`, stream: process.stderr }, Presets.shades_classic);
  const deadline = Date.now() + options.timeoutMs;
  let started = false;
  try {
    for (;;) {
      const { job } = await client.job(id);
      const detail = Object.entries(job.summary)
        .filter(([, n]) => n > 0)
        .map(([s, n]) => `${n} ${s}`)
        .join(", ");
      if (showBar) {
        if (!started) bar.start(job.replicas, 0, { detail });
        started = true;
        bar.update(options.count(job), { detail });
      } else if (!options.quiet) {
        process.stderr.write(`${options.label}: ${options.count(job)}/${job.replicas} (${detail})\n`);
      }
      if (options.done(job)) return job;
      const failure = options.failed?.(job);
      if (failure !== undefined) throw new Error(failure);
      if (Date.now() > deadline) throw new Error(`timed out after ${options.timeoutMs / 1000} s; now: ${detail}`);
      await new Promise((r) => setTimeout(r, showBar ? 200 : 1000));
    }
  } finally {
    if (started) bar.stop();
  }
}
