import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import type { JobView, RevisionView } from "@corral/contracts";
import { ApiError, type GatewayClient, type UpdateAnswer } from "@corral/client";
import { jobSummary, jobsTable, table } from "./format.js";
import { positiveInteger } from "./option-parsers.js";
import { gatewayClient, print } from "./program.js";
import { readSpecFile, type SpecFile } from "./spec-file.js";
import { waitForJob } from "./wait.js";

/** What an update does, for people: the fields, and whether tasks restart. */
export function updatePlanText(name: string, answer: UpdateAnswer): string {
  const { change } = answer;
  if (change.kind === "none") return `${name}: no change (revision ${answer.revision})`;
  const what =
    change.kind === "in-place"
      ? "applied in place: no task restarts"
      : `${answer.replaces?.tasks ?? 0} task${answer.replaces?.tasks === 1 ? "" : "s"} replaced, ${answer.replaces?.maxParallel ?? 1} at a time, each batch once its new tasks are healthy`;
  return `${name}: revision ${answer.revision} changes ${change.fields.join(", ")}\n  ${what}`;
}

async function confirmed(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
  } finally {
    prompt.close();
  }
}

/** Whether an error says the job exists already (so `up` updates it instead). */
export function existsAlready(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409 && error.field === "name";
}

/**
 * `corral up` on a job that exists: shows what the update changes, asks (at a terminal,
 * unless --yes), then applies it; with --wait, waits for its rollout to end.
 */
export async function updateFromFile(api: GatewayClient, spec: SpecFile, name: string, options: { yes?: boolean; force?: boolean; wait?: boolean; timeout: number; json?: boolean }): Promise<void> {
  const plan = await api.update(name, spec.source, spec.name, spec.format, { dryRun: true, ...(options.force === true ? { force: true } : {}) });
  if (plan.change.kind === "none") {
    print(plan, options.json === true, () => updatePlanText(name, plan));
    return;
  }
  if (options.json !== true) process.stderr.write(`${updatePlanText(name, plan)}\n`);
  if (options.yes !== true && process.stdin.isTTY && !(await confirmed("apply it?"))) {
    process.stderr.write("nothing changed\n");
    return;
  }
  const applied = await api.update(name, spec.source, spec.name, spec.format, options.force === true ? { force: true } : {});
  if (options.wait !== true || applied.change.kind !== "replace") {
    print(applied, options.json === true, () => `${applied.job.id} is at revision ${applied.revision}${applied.change.kind === "replace" ? "; follow it with corral rollout status " + name : ""}`);
    return;
  }
  const ended = await waitForRollout(api, applied.job.id, applied.revision, options.timeout * 1000, options.json === true);
  print({ job: ended }, options.json === true, () => `${rolloutLine(ended)}\n${jobSummary(ended)}\n${jobsTable([ended])}`);
  if (ended.rollout?.state !== "succeeded") process.exitCode = 1;
}

/** A rollout's state in a line: revision, state, tasks done of all. */
export function rolloutLine(job: JobView): string {
  const rollout = job.rollout;
  if (rollout === undefined) return `${job.id}: revision ${job.revision ?? 1}, no rollout`;
  const message = rollout.message === undefined ? "" : `: ${rollout.message}`;
  return `${job.id}: revision ${rollout.revision} ${rollout.state.replace("_", " ")} (${rollout.done ?? 0}/${job.replicas} updated and healthy)${message}`;
}

/** Waits until the job's rollout of `revision` (or of the revert that followed it) has ended. */
async function waitForRollout(api: GatewayClient, id: string, revision: number, timeoutMs: number, quiet: boolean): Promise<JobView> {
  return waitForJob(api, id, {
    label: `revision ${revision} of ${id} rolled out`,
    count: (job) => job.rollout?.done ?? 0,
    done: (job) => job.rollout !== undefined && job.rollout.revision >= revision && job.rollout.state !== "running",
    failed: () => undefined,
    timeoutMs,
    quiet,
  });
}

function revisionsTable(revisions: readonly RevisionView[]): string {
  const rows = table(["REVISION", "WHEN", "BY", "HOW", "CHANGED", "OUTCOME"]);
  for (const revision of revisions) rows.push([revision.revision, new Date(revision.at).toISOString(), revision.by, revision.kind, revision.fields.join(", ") || "-", revision.outcome.replace("_", " ")]);
  return rows.toString();
}

/** `corral diff`, `corral history`, `corral rollout status`: updating jobs (README § Updating a job). */
export function addUpdateCommands(program: Command): void {
  program
    .command("diff")
    .description("what `corral up FILE` would change in the job that exists, and whether its tasks would be replaced; changes nothing")
    .argument("<file>", "the job specification")
    .option("--json", "print JSON for scripts")
    .action(async (file: string, options: { json?: boolean }) => {
      const spec = readSpecFile(file);
      const api = gatewayClient(program);
      const name = spec.jobName;
      const plan = await api.update(name, spec.source, spec.name, spec.format, { dryRun: true });
      print(plan, options.json === true, () => updatePlanText(name, plan));
    });

  program
    .command("history")
    .description("a job's revisions: who made each, what it changed, how it ended")
    .argument("<job>", "its name or <job>.<user>.<cell>")
    .option("--json", "print JSON for scripts")
    .action(async (job: string, options: { json?: boolean }) => {
      const answer = await gatewayClient(program).revisions(job);
      print(answer, options.json === true, () => `${answer.job} is at revision ${answer.revision}\n${revisionsTable(answer.revisions)}`);
    });

  const rollout = program.command("rollout").description("a job's rollout of its latest revision");
  rollout
    .command("status")
    .description("how far the latest rollout has got; with --watch, until it ends")
    .argument("<job>", "its name or <job>.<user>.<cell>")
    .option("-w, --watch", "wait until the rollout ends, with a progress bar")
    .option("--timeout <seconds>", "how long --watch waits", positiveInteger("--timeout", 86_400), 600)
    .option("--json", "print JSON for scripts")
    .action(async (name: string, options: { watch?: boolean; timeout: number; json?: boolean }) => {
      const api = gatewayClient(program);
      let { job } = await api.job(name);
      if (options.watch === true && job.rollout?.state === "running") job = await waitForRollout(api, job.id, job.rollout.revision, options.timeout * 1000, options.json === true);
      print({ job: job.id, revision: job.revision ?? 1, rollout: job.rollout ?? null }, options.json === true, () => rolloutLine(job));
    });

  for (const [action, description] of [
    ["pause", "hold the rollout where it is: no more tasks are replaced until resume"],
    ["resume", "go on with a paused rollout (its deadlines count from now)"],
    ["promote", "let a rollout held for its canaries replace the rest"],
  ] as const) {
    rollout
      .command(action)
      .description(description)
      .argument("<job>", "its name or <job>.<user>.<cell>")
      .option("--json", "print JSON for scripts")
      .action(async (name: string, options: { json?: boolean }) => {
        const { job } = await gatewayClient(program).rollout(name, action);
        print({ job }, options.json === true, () => rolloutLine(job));
      });
  }
  rollout
    .command("undo")
    .description("go back to the last stable revision's spec (or --to-revision's), as a new revision rolled out like any update")
    .argument("<job>", "its name or <job>.<user>.<cell>")
    .option("--to-revision <n>", "the revision whose spec to go back to", positiveInteger("--to-revision", 1_000_000_000))
    .option("--json", "print JSON for scripts")
    .action(async (name: string, options: { toRevision?: number; json?: boolean }) => {
      const { job, revision } = await gatewayClient(program).rollout(name, "undo", options.toRevision);
      print({ job, revision }, options.json === true, () => `${job.id} is at revision ${revision}\n${rolloutLine(job)}`);
    });
}
