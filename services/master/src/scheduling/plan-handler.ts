// `corral plan`: the placement pipeline run on the live cell, committing nothing.
import { CorralError, jobId, planJob, spreadRuleOf, subjects, type JobPlan, type JobSpec } from "@corral/contracts";
import { serveRpc, type Subscription } from "@corral/kit";
import { cheapestPreemption, Placer, profileFor, taskRequestFor } from "@corral/scheduling";
import { checkAdmission } from "../jobs/admit-job.js";
import { planInAllocSet } from "../allocs/alloc-keeper.js";
import { wholeCellFor } from "./cell-offers.js";
import type { LeaderContext } from "../leader/leader-context.js";

const MAX_TASKS_PLANNED = 5_000;
const MAX_PREEMPTIONS_PLANNED = 16;

/**
 * `api.plan` (Nomad's job plan): would the job be admitted, where would its tasks go on the
 * cell as it is now, and what would be preempted for those that fit nowhere. The placement
 * runs on a copy; nothing is committed or reserved.
 */
export function servePlans(ctx: LeaderContext): Subscription {
  const { nc, cell, log, state } = ctx;
  return serveRpc(nc, subjects.api(cell, "plan"), planJob, cell, log, ({ spec, user }): JobPlan => {
    let id: string;
    let admission: JobPlan["admission"] = { ok: true };
    try {
      id = checkAdmission(ctx, spec, user);
    } catch (error) {
      if (!(error instanceof CorralError) || (error.code !== "quota_exceeded" && error.code !== "conflict")) throw error;
      admission = { ok: false, code: error.code, message: error.message };
      id = `${spec.name}.${user}.${cell}`;
    }
    if (spec.allocSet !== undefined) return planInAlloc(ctx, id, spec, user, admission);
    const whole = wholeCellFor(state, id, spec);
    const placer = new Placer(whole.cell, { policy: ctx.policy, explain: true });
    const filters = profileFor(ctx.policy).filters;
    // Bounded, since a plan runs on the leader's thread: the first tasks say where the rest would go.
    const simulated = Math.min(spec.replicas, MAX_TASKS_PLANNED);
    const round = placer.placeAll(Array.from({ length: simulated }, (_, index) => taskRequestFor(id, user, spec, index, 0)));
    const chosen = new Set<string>();
    return {
      job: id,
      admission,
      spread: spreadRuleOf(spec.spread),
      placements: round.placements.map((placement) => ({ task: placement.taskId, node: placement.node })),
      ...(simulated < spec.replicas ? { planned: simulated } : {}),
      unplaced: round.unplaced.map(({ task, refusals }, position) => {
        // Each preemption looks at the whole cell: only the first few unplaced tasks get one, each with victims of its own.
        const cheapest = position < MAX_PREEMPTIONS_PLANNED ? cheapestPreemption(whole.cell, filters, task, (machine) => whole.running(machine).filter((victim) => !chosen.has(victim.taskId))) : undefined;
        for (const victim of cheapest?.victims ?? []) chosen.add(victim.taskId);
        const preempts = cheapest === undefined ? undefined : { node: cheapest.machine, tasks: cheapest.victims.map((victim) => victim.taskId) };
        return {
          task: task.taskId,
          refusals: Object.entries(refusals).map(([reason, machines]) => ({ reason, machines })).sort((a, b) => b.machines - a.machines),
          ...(preempts === undefined ? {} : { preempts }),
        };
      }),
    };
  });
}

/** A job in an alloc set is planned into the set's allocs; allocs are never preempted for it. */
function planInAlloc(ctx: LeaderContext, id: string, spec: JobSpec, user: string, admission: JobPlan["admission"]): JobPlan {
  const set = ctx.state.jobs.get(jobId(spec.allocSet!, user, ctx.cell));
  if (set === undefined) throw new CorralError("bad_request", `alloc_set '${spec.allocSet}': no such alloc set`, "allocSet");
  const simulated = Math.min(spec.replicas, MAX_TASKS_PLANNED);
  const { placements, unplaced } = planInAllocSet(ctx.state, set, id, spec.requirements, simulated);
  return {
    job: id,
    admission,
    placements,
    ...(simulated < spec.replicas ? { planned: simulated } : {}),
    unplaced: unplaced.map(({ task, refusals }) => ({
      task,
      refusals: [...refusals].map(([reason, machines]) => ({ reason, machines })).sort((a, b) => b.machines - a.machines),
    })),
  };
}
