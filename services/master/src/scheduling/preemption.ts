// Preemption: lower-band tasks stopped to make room, decided during plan apply for what the plan
// could not place.
import { cheapestPreemption, fitsSomewhere, profileFor, taskRequestFor } from "@corral/scheduling";
import { wholeCellForJobs } from "./cell-offers.js";
import { isAlloc } from "../allocs/alloc-sets.js";
import { revocationFor, type CommandBatch } from "../leader/commands.js";
import type { LeaderContext } from "../leader/leader-context.js";

/** Preemptions considered per plan, and how often: each looks at the whole cell on the leader's thread. */
const MAX_PREEMPTORS_PER_PLAN = 4;
const MIN_PREEMPTION_INTERVAL_MS = 1000;
/** A task no preemption could help is looked at again after this long. */
const NO_VICTIMS_RETRY_MS = 10_000;
/** After its victims' grace period, how long a preemptor waits for them to go before it may preempt again. */
const NOMINATION_SLACK_MS = 15_000;

/**
 * Borg's preemption (§2.5): a task that fits nowhere may stop lower-band tasks on one
 * machine, the fewest that make room; production never preempts production. The victims
 * get their grace period and go back to pending with `preempted by <task>`; the preemptor
 * stays pending and is placed once they are gone (it is ahead of them in the queue). While
 * its victims are stopping, a preemptor does not preempt again.
 */
export function preemptFor(ctx: LeaderContext, unplaced: readonly string[], batch: CommandBatch, now = Date.now()): number {
  const { state } = ctx;
  if (now - ctx.lastPreemptionAt < MIN_PREEMPTION_INTERVAL_MS) return 0;
  // A new leader learns the cell from heartbeats over its first down-after period: until then
  // free capacity is unknown, and stopping anyone would be a guess (and slows the failover).
  if (now - ctx.termStartedAt < ctx.downAfterMs) return 0;
  for (const [taskId, until] of ctx.nominations) if (until < now) ctx.nominations.delete(taskId);
  const preemptors = unplaced
    .map((id) => state.task(id))
    .filter((ref) => ref !== undefined && ref.task.lifecycle.state === "pending" && ref.job.spec.priority !== "best-effort" && !ctx.nominations.has(ref.id))
    .slice(0, MAX_PREEMPTORS_PER_PLAN);
  if (preemptors.length === 0) return 0;
  ctx.lastPreemptionAt = now;
  const whole = wholeCellForJobs(state, new Map(preemptors.map((ref) => [ref!.job.id, ref!.job.spec])));
  const chosen = new Set<string>();
  const filters = profileFor(ctx.policy).filters;
  let preempted = 0;
  for (const ref of preemptors) {
    const task = taskRequestFor(ref!.job.id, ref!.job.user, ref!.job.spec, ref!.task.index, ref!.task.lifecycle.context.incarnation);
    // Tasks already stopping (for this plan or an earlier one) free nothing more.
    const running = (machine: { name: string }) => whole.running(machine).filter((victim) => !chosen.has(victim.taskId) && state.task(victim.taskId)?.task.lifecycle.state !== "terminating");
    // The scheduler saw a sample: a machine elsewhere may take the task as it is, and nothing need be stopped.
    if (fitsSomewhere(whole.cell, filters, task)) {
      batch.wakeSchedulers();
      continue;
    }
    const cheapest = cheapestPreemption(whole.cell, filters, task, running);
    if (cheapest === undefined) {
      // Nothing to preempt for it now; look again later, and meanwhile give the others in the queue their turn.
      ctx.nominations.set(ref!.id, now + NO_VICTIMS_RETRY_MS);
      continue;
    }
    let longestGrace = 0;
    for (const victim of cheapest.victims) {
      const victimRef = state.task(victim.taskId);
      if (victimRef === undefined) continue;
      const node = victimRef.task.lifecycle.context.node;
      const change = state.transition(victimRef, { type: "PREEMPT", by: ref!.id });
      if (change === undefined || node === undefined) continue;
      batch.changed(change);
      // A preempted alloc has no process: the alloc keeper stops the tasks in it, then frees it.
      if (!isAlloc(victimRef.job)) batch.revoke(node, revocationFor(victimRef, `preempted by ${ref!.id}`));
      chosen.add(victim.taskId);
      longestGrace = Math.max(longestGrace, victimRef.job.spec.gracePeriodMs);
      preempted += 1;
    }
    ctx.nominations.set(ref!.id, now + longestGrace + NOMINATION_SLACK_MS);
    ctx.log.info({ job: ref!.job.id, task: ref!.id, node: cheapest.machine, victims: cheapest.victims.map((victim) => victim.taskId) }, "preempting to make room");
  }
  return preempted;
}
