import type { Command } from "commander";
import { MAX_REPLICAS, parseSelector, selectorMatches, type FederatedJobView, type JobView } from "@corral/contracts";
import type { GatewayClient, JobList } from "@corral/client";
import { eventsTable, jobSummary, jobsTable } from "./format.js";
import { durationText, labelSelector, positiveInteger } from "./option-parsers.js";
import { gatewayClient, print } from "./program.js";
import { readSpecFile } from "./spec-file.js";
import { waitForJob } from "./wait.js";
import { watchJobs } from "./watch-jobs.js";
import { existsAlready, updateFromFile } from "./update-commands.js";

/** `corral up|ps|events|kill|scale`: a job's life, from submission to its end. */
export function addJobCommands(program: Command): void {
  program
    .command("up")
    .description("submit a job from a .borg, .yaml or .json file; a job that exists is updated to it (what changes is shown first, and asked about at a terminal)")
    .argument("<file>", "the job specification")
    .option("--wait", "wait until every task is running (for an update: until its rollout ends)")
    .option("--timeout <seconds>", "how long --wait waits", positiveInteger("--timeout", 86_400), 120)
    .option("-y, --yes", "update without asking")
    .option("--force", "update even while an earlier rollout of the job runs")
    .option("--json", "print JSON for scripts")
    .action(async (file: string, options: { wait?: boolean; timeout: number; yes?: boolean; force?: boolean; json?: boolean }) => {
      const spec = readSpecFile(file);
      const api = gatewayClient(program);
      let job: JobView;
      try {
        ({ job } = await api.submit(spec.source, spec.name, spec.format));
      } catch (error) {
        if (!existsAlready(error)) throw error;
        await updateFromFile(api, spec, spec.jobName, options);
        return;
      }
      if (options.wait !== true) {
        print({ job }, options.json === true, () => `submitted ${job.id} (${job.replicas} tasks)`);
        return;
      }
      const running = await waitForJob(api, job.id, {
        label: `${job.id} running`,
        count: (j) => j.summary.running,
        done: (j) => j.summary.running === j.replicas,
        failed: (j) => (j.summary.dead > 0 ? `${j.summary.dead} tasks died: ${j.tasks.find((t) => t.state === "dead")?.reason ?? ""}` : undefined),
        timeoutMs: options.timeout * 1000,
        quiet: options.json === true,
      });
      print({ job: running }, options.json === true, () => `${jobSummary(running)}\n${jobsTable([running])}`);
    });

  program
    .command("ps")
    .description("jobs and their tasks")
    .argument("[job]", "one job: its name or <job>.<user>.<cell>")
    .option("--all", "every user's jobs")
    .option("-l, --selector <labels>", "only jobs whose labels match, e.g. tier=web,env!=prod,canary,!legacy", labelSelector)
    .option("-w, --watch", "after the table, print each task change as it happens, until Ctrl-C (with --json: one JSON object per line)")
    .option("--json", "print JSON for scripts")
    .action(async (job: string | undefined, options: JobListOptions & { watch?: boolean; json?: boolean }) => {
      const api = gatewayClient(program);
      const answer = await readJobList(api, job, options);
      const jobs = oneTable(answer);
      if (options.json !== true) warnOfGaps(answer);
      const shown = { jobs: answer.jobs, ...(answer.federated === undefined ? {} : { federated: answer.federated }), stale: answer.stale === true, ...(answer.unreachable === undefined ? {} : { unreachable: answer.unreachable }) };
      if (options.watch === true && options.json === true) process.stdout.write(`${JSON.stringify(shown)}\n`);
      else print(shown, options.json === true, () => (jobs.length === 0 ? "no jobs" : `${jobs.map(jobSummary).join("\n")}\n${jobsTable(jobs)}`));
      if (options.watch === true) await watchJobs(async () => oneTable(await readJobList(api, job, options)), options.json === true, jobs);
    });

  program
    .command("events")
    .description("what happened to a job and its tasks: submitted, scheduled on X, started, unhealthy, restarted, preempted by Y, machine lost")
    .argument("<job>", "its name or <job>.<user>.<cell>")
    .option("--json", "print JSON for scripts")
    .action(async (job: string, options: { json?: boolean }) => {
      const answer = await gatewayClient(program).events(job);
      print(answer, options.json === true, () => (answer.events.length === 0 ? `${answer.job}: no events kept` : eventsTable(answer.events)));
    });

  program
    .command("kill")
    .description("stop every task of a job (SIGTERM, then SIGKILL after its grace period)")
    .argument("<job>", "its name or <job>.<user>.<cell>")
    .option("--grace <duration>", "SIGKILL after this long (e.g. 5s, 0s) instead of the job's grace period", durationText)
    .option("--wait", "wait until every task is dead")
    .option("--timeout <seconds>", "how long --wait waits", positiveInteger("--timeout", 86_400), 60)
    .option("--json", "print JSON for scripts")
    .action(async (job: string, options: { grace?: string; wait?: boolean; timeout: number; json?: boolean }) => {
      const api = gatewayClient(program);
      const killed = (await api.kill(job, options.grace)).job;
      const final = options.wait
        ? await waitForJob(api, killed.id, {
            label: `${killed.id} stopped`,
            count: (j) => j.summary.dead,
            done: (j) => j.summary.dead === j.replicas,
            timeoutMs: options.timeout * 1000,
            quiet: options.json === true,
          })
        : killed;
      print({ job: final }, options.json === true, () => jobSummary(final));
    });

  program
    .command("scale")
    .description("set a job's replica count: new tasks start, or the highest-numbered stop; the rest are untouched")
    .argument("<job>", "its name or <job>.<user>.<cell>")
    .argument("<replicas>", "how many tasks", positiveInteger("replicas", MAX_REPLICAS))
    .option("--wait", "wait until that many tasks are running")
    .option("--timeout <seconds>", "how long --wait waits", positiveInteger("--timeout", 86_400), 120)
    .option("--json", "print JSON for scripts")
    .action(async (job: string, replicas: number, options: { wait?: boolean; timeout: number; json?: boolean }) => {
      const api = gatewayClient(program);
      const scaled = (await api.scale(job, replicas)).job;
      const { runningNow, alive } = scaleProgress(scaled, replicas);
      const final = options.wait
        ? await waitForJob(api, scaled.id, {
            label: `${scaled.id} at ${replicas}`,
            count: runningNow,
            done: (j) => runningNow(j) === replicas && alive(j) === replicas,
            failed: (j) => (j.killed ? "the job was killed" : undefined),
            timeoutMs: options.timeout * 1000,
            quiet: options.json === true,
          })
        : scaled;
      print({ job: final }, options.json === true, () => `${final.id}: ${replicas} replicas\n${jobSummary(final)}`);
    });
}

interface JobListOptions {
  all?: boolean;
  selector?: string;
}

async function readJobList(api: GatewayClient, job: string | undefined, options: JobListOptions): Promise<JobList> {
  if (job !== undefined) {
    const { job: found, stale } = await api.job(job);
    return { jobs: [found].filter((one) => options.selector === undefined || selectorMatches(parseSelector(options.selector), one.labels)), stale };
  }
  return options.all === true ? await api.allJobs(options.selector) : await api.jobs(options.selector);
}

/** A federation's gateway lists federated jobs apart; people see them in the one table. */
function oneTable(answer: JobList): JobView[] {
  return [...answer.jobs, ...(answer.federated ?? [])] as JobView[];
}

function warnOfGaps(answer: JobList): void {
  // During a failover a standby answers from its copy: say so, it may lag by a moment.
  if (answer.stale === true) process.stderr.write("note: no leader right now; this is a standby's copy and may be slightly behind\n");
  const unreachable = answer.unreachable ?? [];
  if (unreachable.length > 0) process.stderr.write(`note: no answer from cell${unreachable.length === 1 ? "" : "s"} ${unreachable.join(", ")}; their jobs are missing here\n`);
}

/** How far a scale to `replicas` has got: the tasks running of the wanted ones, and the tasks still alive. */
function scaleProgress(scaled: JobView, replicas: number): { runningNow: (job: JobView) => number; alive: (job: JobView) => number } {
  // A federated job's tasks are numbered per cell, and its view leaves out the ones a scale
  // down is stopping: its cells say how many are still alive.
  const cellsOf = (j: JobView) => (j as unknown as Partial<FederatedJobView>).cells;
  const federated = cellsOf(scaled) !== undefined;
  const wanted = (j: JobView) => (federated ? j.tasks : j.tasks.filter((t) => t.index < replicas));
  const runningNow = (j: JobView) => wanted(j).filter((t) => t.state === "running" && t.health !== "unhealthy").length;
  const alive = (j: JobView) => (federated ? (cellsOf(j) ?? []).reduce((sum, cell) => sum + cell.live, 0) : j.tasks.filter((t) => t.state !== "dead").length);
  return { runningNow, alive };
}
