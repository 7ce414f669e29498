import { z } from "zod";
import { defineScenario } from "../scenario.js";
import { inParallel, LoadCell, sampler } from "../harness/load-cell.js";
import { generateJobs, toBorg } from "../harness/workload.js";

export const machineFailure = defineScenario({
  name: "machine-failure",
  description: "kill 10% of the hollow machines at once (with --hosts: cut the last host's link): time until all their tasks run elsewhere",
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

      // One host: SIGKILL one hollow process. Several: cut the last host's link, taking down
      // every hollow process on it (the masters and servers are on the first hosts).
      const network = cell.network;
      const cutHost = network?.hosts.at(-1);
      const victims = cutHost === undefined ? ["hollow-0"] : cell.cell.processes.filter((p) => p.name.startsWith("hollow-") && p.host === cutHost.name).map((p) => p.name);
      const onVictims = (node: string | undefined) => victims.some((victim) => node?.startsWith(`${victim}-`) === true);
      const onVictim = [...cell.timeline.lastState].filter(([, s]) => s.state === "running" && onVictims(s.node)).map(([id]) => id);
      const movedAway = (id: string) => {
        const s = cell.timeline.lastState.get(id);
        return s?.state === "running" && !onVictims(s.node);
      };
      const progress = sampler(250, () => onVictim.filter(movedAway).length);
      const killedAt = Date.now();
      if (cutHost === undefined) cell.kill9(victims[0]!);
      else await network!.cut(cutHost);
      let recoveryS: number;
      try {
        await cell.timeline.until(
          () => onVictim.every(movedAway),
          options.downAfterMs + 120_000,
          `${onVictim.length} tasks of the ${cutHost === undefined ? "killed" : "cut-off"} machines running elsewhere`,
        );
        recoveryS = (Date.now() - killedAt) / 1000;
      } finally {
        if (cutHost !== undefined) await network!.heal(cutHost);
      }
      progress.stop();
      return {
        config: { ...options, hollowProcesses: processes, failure: cutHost === undefined ? "SIGKILL of a hollow process" : `link of ${cutHost.name} cut`, lostMachines: victims.length * Math.ceil(options.machines / processes) },
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
