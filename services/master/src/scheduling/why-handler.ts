// `corral why`: a pending task put through the cell's filters on every machine, to say what stops it.
import { CorralError, spreadRuleOf, subjects, whyPending } from "@corral/contracts";
import { serveRpc, type Subscription } from "@corral/kit";
import { explainPending, profileFor, taskRequestFor } from "@corral/scheduling";
import { wholeCellFor } from "./cell-offers.js";
import { allocRefusal } from "../allocs/alloc-keeper.js";
import { allocSetIdOf } from "../allocs/alloc-sets.js";
import { eligibleAt, taskRefOf } from "../state/task-ref.js";
import type { CellState } from "../state/cell-state.js";
import type { LeaderContext } from "../leader/leader-context.js";
import type { JobRecord } from "@corral/state";

/**
 * `api.why`: the job's first pending task through the cell's filters on every machine that
 * is up, counted by reason, with advice (a smaller request that fits, or preemptions).
 */
export function serveWhyPending(ctx: LeaderContext): Subscription {
  const { nc, cell, log, state } = ctx;
  return serveRpc(nc, subjects.api(cell, "why"), whyPending, cell, log, ({ job: id }) => {
    const job = state.jobs.get(id);
    if (job === undefined) throw new CorralError("not_found", `no job ${id}`, "job");
    const pending = job.tasks.filter((task) => task.lifecycle.state === "pending");
    const first = pending[0];
    if (first === undefined) return { job: id, pending: 0, over: "machines" as const, machines: 0, fitting: 0, refusals: [], advice: ["nothing is pending"] };
    const waiting = eligibleAt(taskRefOf(job, first)) - Date.now();
    if (waiting > 0) {
      const streak = first.lifecycle.context.crashStreak ?? 0;
      return {
        job: id,
        pending: pending.length,
        over: "machines" as const,
        machines: 0,
        fitting: 0,
        refusals: [],
        advice: [`task ${first.index} exited ${streak} times in a row (last: ${first.lifecycle.context.reason ?? "unknown"}); it is placed again in ${Math.ceil(waiting / 1000)} s (restart backoff). Look at its logs: corral logs ${job.name} ${first.index}`],
      };
    }
    if (job.spec.allocSet !== undefined) return { job: id, pending: pending.length, over: "allocs" as const, ...explainInAllocSet(state, job) };
    const whole = wholeCellFor(state, id, job.spec);
    const task = taskRequestFor(id, job.user, job.spec, first.index, first.lifecycle.context.incarnation);
    return {
      job: id,
      pending: pending.length,
      over: "machines" as const,
      spread: spreadRuleOf(job.spec.spread),
      ...explainPending(whole.cell, profileFor(ctx.policy).filters, task, pending.length, whole.running),
    };
  });
}

/** A job in an alloc set waits for room in the set's allocs, not on machines: count the allocs by what stops each. */
function explainInAllocSet(state: CellState, job: JobRecord): { machines: number; fitting: number; refusals: { reason: string; machines: number }[]; advice: string[] } {
  const set = state.jobs.get(allocSetIdOf(job)!);
  const name = job.spec.allocSet!;
  if (set === undefined || set.killed) {
    return { machines: 0, fitting: 0, refusals: [], advice: [`alloc set ${name} ${set === undefined ? "does not exist" : "was killed"}: submit it again, and the tasks go into its allocs`] };
  }
  const counts = new Map<string, number>();
  let fitting = 0;
  for (const task of set.tasks) {
    const refusal = allocRefusal(state, taskRefOf(set, task), job.spec.requirements);
    if (refusal === undefined) {
      fitting += 1;
      continue;
    }
    counts.set(refusal.text, (counts.get(refusal.text) ?? 0) + 1);
  }
  const refusals = [...counts].map(([reason, machines]) => ({ reason, machines })).sort((a, b) => b.machines - a.machines);
  const advice: string[] = [];
  const waiting = set.tasks.filter((task) => task.lifecycle.state === "pending").length;
  if (waiting > 0) advice.push(`${waiting} of ${set.tasks.length} allocs of ${name} are pending themselves: see corral why ${name}`);
  if (fitting > 0) advice.push(`${fitting} allocs have room now: the tasks go in within a moment`);
  else advice.push(`the allocs of ${name} are full: kill tasks running in them, or resubmit ${name} with more replicas or larger allocs`);
  return { machines: set.tasks.length, fitting, refusals, advice };
}
