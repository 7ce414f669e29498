import { jetstream } from "@nats-io/jetstream";
import { z } from "zod";
import { subjects, submissionOutcomeSchema } from "@corral/contracts";
import { sleep } from "@corral/kit";
import { defineScenario } from "../scenario.js";
import { inParallel, LoadCell } from "../harness/load-cell.js";
import { failoverChart, killLeaderAndTime, tinyJob } from "../harness/leader-kill.js";
import { distribution } from "../harness/stats.js";
import { generateJobs, toBorg } from "../harness/workload.js";

export const failover = defineScenario({
  name: "failover",
  description: "SIGKILL the leader N times under a stream of submissions and kills: time to a new leader, nothing lost or run twice",
  options: z.object({
    machines: z.coerce.number().int().min(1).default(5000),
    tasks: z.coerce.number().int().min(0).default(100_000),
    kills: z.coerce.number().int().min(1).default(20),
    /** the masters' lease; default the master's own (long: a standby replaces a dead leader without waiting for it) */
    leaseTtlMs: z.coerce.number().int().min(300).optional(),
    seed: z.coerce.number().int().default(1),
  }),
  async run(options) {
    const processes = Math.max(1, Math.ceil(options.machines / 5000));
    const cell = await LoadCell.start("failover", {
      masters: 5,
      ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
      heartbeatMs: 5000,
      downAfterMs: 15_000,
      hollow: { processes, machinesEach: Math.ceil(options.machines / processes) },
    });
    try {
      // The state a failover has to take over: T tasks in about T/10 jobs, all running.
      const jobs = generateJobs({ seed: options.seed, tasks: options.tasks });
      let loaded = 0;
      await inParallel(jobs, 64, async (job) => {
        if ((await cell.submit(toBorg(job))).status === 201) loaded += job.replicas;
      });
      await cell.timeline.until(() => cell.timeline.runningCount >= loaded, 600_000, `${loaded} tasks running`);

      // Producers for the whole run: HTTP submissions, stream submissions, and kills of what they made.
      const acknowledged = new Set<string>();
      const killed = new Set<string>();
      const streamAccepted = new Set<string>();
      let producing = true;
      let serial = 0;
      const js = jetstream(cell.nc);
      const outcomes = cell.nc.subscribe(`corral.${cell.cell.cell}.events.submissions.>`, {
        callback: (_error, message) => {
          const parsed = submissionOutcomeSchema.safeParse(JSON.parse(message.string()));
          if (parsed.success && parsed.data.status === "accepted") streamAccepted.add(parsed.data.job);
        },
      });
      const httpProducer = (async () => {
        while (producing) {
          const name = `steady_${serial++}`;
          const result = await cell.submit(tinyJob(name)).catch(() => undefined);
          if (result?.job !== undefined) {
            acknowledged.add(result.job.id);
            if (serial % 5 === 0 && (await cell.kill(result.job.id).catch(() => 0)) === 202) killed.add(result.job.id);
          }
          await sleep(20);
        }
      })();
      const streamProducer = (async () => {
        for (let i = 0; producing; i++) {
          const id = `stream-${i}`;
          await js
            .publish(subjects.submitStream(cell.cell.cell, "loadtest"), JSON.stringify({ id, user: "loadtest", format: "borg", source: tinyJob(`streamed_${i}`) }))
            .catch(() => undefined);
          await sleep(50);
        }
      })();

      const failoverMs: number[] = [];
      for (let i = 0; i < options.kills; i++) {
        failoverMs.push(await killLeaderAndTime(cell, `probe_${i}`, (id) => acknowledged.add(id)));
        process.stderr.write(`  kill ${i + 1}/${options.kills}: ${Math.round(failoverMs[failoverMs.length - 1]!)} ms\n`);
      }
      producing = false;
      await Promise.all([httpProducer, streamProducer]);
      await sleep(3000); // the last stream submissions and kills settle
      outcomes.unsubscribe();

      // Each acknowledged job is looked up on its own: a whole-cell listing is too large here.
      const lost: string[] = [];
      const killsIgnored: string[] = [];
      await inParallel([...acknowledged, ...streamAccepted], 32, async (id) => {
        const { status, body } = await cell.gateway.send<{ job?: { killed?: boolean } }>("GET", `/v1/jobs/${id}`);
        if (status === 404) lost.push(id);
        else if (status !== 200) throw new Error(`GET /v1/jobs/${id}: ${status} ${JSON.stringify(body)}`);
        if (killed.has(id) && body.job?.killed !== true) killsIgnored.push(id);
      });
      return {
        config: { ...options, hollowProcesses: processes, masters: 5 },
        metrics: {
          failover_ms: distribution(failoverMs),
          lost: lost.length + killsIgnored.length,
          duplicated: cell.timeline.runningOnTwoMachines,
          acknowledged_submissions: acknowledged.size + streamAccepted.size,
          acknowledged_kills: killed.size,
          tasks_in_state: loaded,
        },
        samples: { failoverMs, lost, killsIgnored },
        headline: ["failover_ms.p50", "failover_ms.p99", "failover_ms.max", "lost", "duplicated", "acknowledged_submissions"],
        charts: [
          failoverChart(failoverMs),
        ],
      };
    } finally {
      await cell.stop();
    }
  },
});
