import { z } from "zod";
import type { JobView } from "@corral/contracts";
import { sleep } from "@corral/kit";
import { defineScenario } from "../scenario.js";
import { LoadCell } from "../harness/load-cell.js";
import { barChart } from "../harness/charts.js";

/** One job of `tasks` hollow tasks; `version` is its env, so each new version replaces every task. */
const rollJob = (tasks: number, maxParallel: number, version: number) => `job roll = {
  binary = 'hollow'
  env = { VERSION = '${version}' }
  replicas = ${tasks}
  requirements = { cpu = 0.01  ram = 16M }
  update = { max_parallel = ${maxParallel} min_healthy_time = 0s healthy_deadline = 10m progress_deadline = 20m }
}
`;

/** The job with one task: its counts and rollout (a view of 10,000 tasks is megabytes). */
async function head(cell: LoadCell, id: string): Promise<JobView> {
  const reply = await cell.gateway.send<{ job: JobView }>("GET", `/v1/jobs/${id}?limit=1`);
  if (reply.status !== 200) throw new Error(`GET /v1/jobs/${id}: ${reply.status}`);
  return reply.body.job;
}

function leaderCpuSeconds(stats: { cpuUserMicros: number; cpuSystemMicros: number }): number {
  return (stats.cpuUserMicros + stats.cpuSystemMicros) / 1e6;
}

export const rollout = defineScenario({
  name: "rollout",
  description: "update a job of N hollow tasks (max_parallel M): time until every task runs the new revision and the leader's cpu, then again with the leader SIGKILLed halfway",
  options: z.object({
    machines: z.coerce.number().int().min(1).default(2000),
    tasks: z.coerce.number().int().min(1).max(100_000).default(10_000),
    maxParallel: z.coerce.number().int().min(1).default(1000),
  }),
  async run(options) {
    const processes = Math.max(1, Math.ceil(options.machines / 5000));
    const cell = await LoadCell.start("rollout", { masters: 3, heartbeatMs: 2000, downAfterMs: 15_000, hollow: { processes, machinesEach: Math.ceil(options.machines / processes) } });
    try {
      const submitted = await cell.submit(rollJob(options.tasks, options.maxParallel, 1));
      if (submitted.job === undefined) throw new Error(`submit: ${submitted.status} ${submitted.error}`);
      const id = submitted.job.id;
      await cell.timeline.until(() => cell.timeline.runningCount >= options.tasks, 600_000, `${options.tasks} tasks running`);

      /** Updates to `version`, optionally killing the leader once half the tasks are done; returns seconds and the leader's cpu. */
      const round = async (version: number, killHalfway: boolean) => {
        const leaderBefore = await cell.masterStats(false);
        const started = performance.now();
        const update = await cell.gateway.update("roll", rollJob(options.tasks, options.maxParallel, version), "roll.borg", "borg");
        let killedAt: number | undefined;
        for (;;) {
          const job = await head(cell, id);
          if (job.rollout?.revision === update.revision && job.rollout.state === "succeeded") break;
          if (job.rollout?.state === "failed" || job.rollout?.state === "rolled_back") throw new Error(`revision ${update.revision}: ${job.rollout.state} (${job.rollout.message ?? ""})`);
          if (killHalfway && killedAt === undefined && (job.rollout?.done ?? 0) >= options.tasks / 2) {
            const leader = await cell.masterStats(false);
            cell.kill9(leader.replica);
            killedAt = performance.now();
            process.stderr.write(`  killed the leader ${leader.replica} with ${job.rollout?.done} of ${options.tasks} tasks done\n`);
          }
          if (performance.now() - started > 1_200_000) throw new Error(`revision ${update.revision} not rolled out in 20 minutes`);
          await sleep(250);
        }
        const seconds = (performance.now() - started) / 1000;
        const leaderAfter = await cell.masterStats(false);
        // The same leader throughout: its cpu for the rollout; after a kill, the new one's cpu is not comparable.
        const leaderCpu = leaderAfter.replica === leaderBefore.replica ? leaderCpuSeconds(leaderAfter) - leaderCpuSeconds(leaderBefore) : undefined;
        process.stderr.write(`  revision ${update.revision}: ${seconds.toFixed(1)} s${leaderCpu === undefined ? "" : `, leader cpu ${leaderCpu.toFixed(1)} s`}\n`);
        return { seconds, leaderCpu, revision: update.revision };
      };
      const quiet = await round(2, false);
      const killed = await round(3, true);

      // Each task replaced exactly once per revision: incarnation 2 after two rollouts, none twice.
      // From the leader itself: a standby's copy (stale, while the new leader is busy) may lag by thousands of commits.
      let whole = await cell.gateway.job(id);
      while (whole.stale === true) {
        await sleep(250);
        whole = await cell.gateway.job(id);
      }
      const replacedOtherThanTwice = whole.job.tasks.filter((task) => task.incarnation !== 2 || task.revision !== killed.revision).length;
      const seen: Record<string, number> = {};
      for (const task of whole.job.tasks) {
        const key = `incarnation ${task.incarnation}, revision ${task.revision ?? "?"}, ${task.state}`;
        seen[key] = (seen[key] ?? 0) + 1;
      }
      process.stderr.write(`  tasks by incarnation and revision: ${JSON.stringify(seen)}\n`);
      return {
        config: { ...options, hollowProcesses: processes, masters: 3 },
        metrics: {
          rollout_s: quiet.seconds,
          leader_cpu_s: quiet.leaderCpu ?? Number.NaN,
          leader_cpu_us_per_task: ((quiet.leaderCpu ?? Number.NaN) * 1e6) / options.tasks,
          rollout_with_leader_kill_s: killed.seconds,
          tasks_not_replaced_exactly_once: replacedOtherThanTwice,
          duplicated: cell.timeline.runningOnTwoMachines,
        },
        samples: {},
        headline: ["rollout_s", "rollout_with_leader_kill_s", "leader_cpu_s", "tasks_not_replaced_exactly_once", "duplicated"],
        charts: [
          barChart({ title: `Rolling out ${options.tasks} tasks, ${options.maxParallel} at a time`, xLabel: "round", unit: "seconds", categories: ["quiet", "leader killed halfway"], values: [quiet.seconds, killed.seconds] }),
        ],
      };
    } finally {
      await cell.stop();
    }
  },
});
