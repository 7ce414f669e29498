import { z } from "zod";
import { defineScenario } from "../scenario.js";
import { inParallel, LoadCell, sampler } from "../harness/load-cell.js";
import { generateJobs, toBorg } from "../harness/workload.js";

export const machineFailure = defineScenario({
  name: "machine-failure",
  description: "kill 10% of the hollow machines at once: time until all their tasks run elsewhere",
  options: z.object({
    machines: z.coerce.number().int().min(10).default(1000),
    tasks: z.coerce.number().int().min(1).default(10_000),
    downAfterMs: z.coerce.number().int().min(500).default(5000),
    seed: z.coerce.number().int().default(1),
  }),
  async run(options) {
    // Ten hollow processes; killing one takes 10% of the machines down together.
    const processes = 10;
    const cell = await LoadCell.start("machine-failure", {
      masters: 3,
      downAfterMs: options.downAfterMs,
      heartbeatMs: Math.min(1000, Math.floor(options.downAfterMs / 3)),
      hollow: { processes, machinesEach: Math.ceil(options.machines / processes) },
    });
    try {
      const jobs = generateJobs({ seed: options.seed, tasks: options.tasks });
      let submittedTasks = 0;
      await inParallel(jobs, 32, async (job) => {
        if ((await cell.submit(toBorg(job))).status === 201) submittedTasks += job.replicas;
      });
      await cell.timeline.until(() => cell.timeline.runningCount >= submittedTasks, 600_000, "every task running");

      const victim = "hollow-0";
      const onVictim = [...cell.timeline.lastState].filter(([, s]) => s.state === "running" && s.node?.startsWith(`${victim}-`)).map(([id]) => id);
      const progress = sampler(250, () => onVictim.filter((id) => {
        const s = cell.timeline.lastState.get(id);
        return s?.state === "running" && !s.node?.startsWith(`${victim}-`);
      }).length);
      const killedAt = Date.now();
      cell.kill9(victim);
      await cell.timeline.until(
        () => onVictim.every((id) => {
          const s = cell.timeline.lastState.get(id);
          return s?.state === "running" && !s.node?.startsWith(`${victim}-`);
        }),
        options.downAfterMs + 120_000,
        `${onVictim.length} tasks of the killed machines running elsewhere`,
      );
      const recoveryS = (Date.now() - killedAt) / 1000;
      progress.stop();
      return {
        config: { ...options, hollowProcesses: processes, killedMachines: Math.ceil(options.machines / processes) },
        metrics: {
          recovery_s: recoveryS,
          recovery_after_down_s: recoveryS - options.downAfterMs / 1000,
          tasks_moved: onVictim.length,
          tasks_total: submittedTasks,
        },
        samples: { recovered: progress.samples },
        charts: [
          {
            title: "Tasks of the killed machines running elsewhere",
            xLabel: "seconds since the kill",
            yLabel: "tasks",
            series: [{ label: "recovered", points: progress.samples.map((s) => ({ x: s.t, y: s.value })) }],
          },
        ],
      };
    } finally {
      await cell.stop();
    }
  },
});
