import { z } from "zod";
import { defineScenario } from "../scenario.js";
import { leaderMemoryChart } from "../harness/charts.js";
import { inParallel, LoadCell, sampler } from "../harness/load-cell.js";
import { distribution } from "../harness/stats.js";
import { generateJobs, toBorg } from "../harness/workload.js";

export const throughput = defineScenario({
  name: "throughput",
  description: "M hollow machines, T tasks submitted as fast as they are accepted; time until every task runs",
  options: z.object({
    machines: z.coerce.number().int().min(1).default(10_000),
    tasks: z.coerce.number().int().min(1).default(100_000),
    concurrency: z.coerce.number().int().min(1).max(1024).default(64),
    seed: z.coerce.number().int().default(1),
    masters: z.coerce.number().int().min(1).max(9).default(3),
    timeoutS: z.coerce.number().min(1).default(600),
    /** each hollow machine's heartbeat period; every heartbeat reaches the leader until link shards exist */
    heartbeatMs: z.coerce.number().int().min(100).default(5000),
  }),
  async run(options) {
    const processes = Math.max(1, Math.ceil(options.machines / 5000));
    const cell = await LoadCell.start("throughput", {
      masters: options.masters,
      heartbeatMs: options.heartbeatMs,
      downAfterMs: options.heartbeatMs * 3,
      leaseTtlMs: 10_000,
      hollow: { processes, machinesEach: Math.ceil(options.machines / processes) },
    });
    try {
      const before = await cell.masterStats(true);
      const cpuBefore = cell.cpuSecondsByProcess();
      const jobs = generateJobs({ seed: options.seed, tasks: options.tasks });
      const total = jobs.reduce((sum, job) => sum + job.replicas, 0);
      let submittedTasks = 0;
      let refused = 0;
      const progress = sampler(250, () => ({ submitted: submittedTasks, running: cell.timeline.runningCount }));
      const masterUse = sampler(1000, () => cell.masterStats(false));
      const started = Date.now();
      const submitMs: number[] = [];
      await inParallel(jobs, options.concurrency, async (job) => {
        const sent = performance.now();
        const result = await cell.submit(toBorg(job));
        submitMs.push(performance.now() - sent);
        if (result.status === 201) submittedTasks += job.replicas;
        else refused += 1;
      });
      const acceptedS = (Date.now() - started) / 1000;
      await cell.timeline.until(() => cell.timeline.runningCount >= submittedTasks, options.timeoutS * 1000, `${submittedTasks} tasks running`);
      const allRunningS = (Date.now() - started) / 1000;
      progress.stop();
      masterUse.stop();
      const after = await cell.masterStats(true);
      const cpuByProcess = cell.cpuSecondsByProcess();
      const perTask = cpuPerTask(cpuBefore, cpuByProcess, after.replica, submittedTasks);
      const cpuSeconds = (after.cpuUserMicros + after.cpuSystemMicros - before.cpuUserMicros - before.cpuSystemMicros) / 1e6;
      return {
        config: { ...options, hollowProcesses: processes, jobs: jobs.length, generatedTasks: total },
        metrics: {
          tasks_per_s: Math.round(submittedTasks / allRunningS),
          control_plane_us_per_task: perTask.controlPlane,
          leader_us_per_task: perTask.leader,
          standby_us_per_task: perTask.standbyMax,
          us_per_task_by_process: perTask.byProcess,
          all_running_s: allRunningS,
          accepted_s: acceptedS,
          submissions_refused: refused,
          submit_ms: distribution(submitMs),
          master_bytes_per_task: Math.round((after.heapUsedBytes - before.heapUsedBytes) / Math.max(1, submittedTasks)),
          master_bytes_per_machine: cell.machineMemory.masterBytesPerMachine,
          hollow_bytes_per_machine: cell.machineMemory.hollowBytesPerMachine,
          master_cpu_s: cpuSeconds,
          master_rss_bytes: after.rssBytes,
          commits: after.commits.commits - before.commits.commits,
          commit_ms_mean: (after.commits.totalMs - before.commits.totalMs) / Math.max(1, after.commits.commits - before.commits.commits),
          commit_ms_max: after.commits.maxMs,
          cpu_s_by_process: cpuByProcess,
          run_cpu_s_by_process: perTask.runCpuS,
          jobs_per_commit: (after.commits.jobsWritten - before.commits.jobsWritten) / Math.max(1, after.commits.commits - before.commits.commits),
          master_event_loop_max_ms: Math.max(...masterUse.samples.map((s) => s.value.eventLoopDelayMaxMs), after.eventLoopDelayMaxMs),
        },
        samples: { progress: progress.samples, master: masterUse.samples },
        charts: [
          {
            title: "Tasks over time",
            xLabel: "seconds since the first submission",
            yLabel: "tasks",
            series: [
              { label: "accepted", points: progress.samples.map((s) => ({ x: s.t, y: s.value.submitted })) },
              { label: "running", points: progress.samples.map((s) => ({ x: s.t, y: s.value.running })) },
            ],
          },
          leaderMemoryChart(masterUse.samples),
          {
            title: "Leader cpu",
            xLabel: "seconds",
            yLabel: "cpu seconds used",
            series: [{ label: "user + system", points: masterUse.samples.map((s) => ({ x: s.t, y: (s.value.cpuUserMicros + s.value.cpuSystemMicros) / 1e6 })) }],
          },
        ],
      };
    } finally {
      await cell.stop();
    }
  },
});

/** The processes whose cpu is the control plane's: everything but the hollow borglets and the load generator. */
const CONTROL_PLANE = /^(master-\d+|scheduler(-\d+)?|gateway(-\d+)?|nats-server|redis-server)$/;

/**
 * µs of cpu per task over the run (first submission to every task running), so start-up and
 * machine registration are left out; the leader is the master that answered the last stats call.
 */
function cpuPerTask(before: Record<string, number>, after: Record<string, number>, leader: string, tasks: number) {
  const runCpuS: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(after)) runCpuS[name] = Math.round((seconds - (before[name] ?? 0)) * 100) / 100;
  const us = (seconds: number) => Math.round((seconds / Math.max(1, tasks)) * 1e6);
  const byProcess = Object.fromEntries(Object.entries(runCpuS).map(([name, seconds]) => [name, us(seconds)]));
  const standbys = Object.keys(runCpuS).filter((name) => /^master-\d+$/.test(name) && name !== leader);
  return {
    runCpuS,
    byProcess,
    controlPlane: us(Object.entries(runCpuS).reduce((sum, [name, seconds]) => (CONTROL_PLANE.test(name) ? sum + seconds : sum), 0)),
    leader: us(runCpuS[leader] ?? Number.NaN),
    standbyMax: standbys.length === 0 ? 0 : Math.max(...standbys.map((name) => us(runCpuS[name]!))),
  };
}
