// The leader's side of the scheduler protocol: work fetches (the pending window and a sample of
// machines) and plan apply, where every placement is checked again before it is committed.
import { CorralError, declaredSpread, fetchWork, isPlaced, runtimeOf, SPREAD_DOMAINS, subjects, submitPlan, type Placement, type Plan, type SpreadDomain, type WorkNode } from "@corral/contracts";
import { serveRpc, type Subscription } from "@corral/kit";
import { assignedPortsRefusal, firstRefusal, mayUseReclaimed, profileFor, resourceRefusal, taskRequestFor, type TaskRequest } from "@corral/scheduling";
import { isAlloc } from "../allocs/alloc-sets.js";
import type { NodeRecord } from "../state/cell-state.js";
import type { TaskRef } from "../state/task-ref.js";
import { CommandBatch, leaseFor } from "../leader/commands.js";
import type { LeaderContext } from "../leader/leader-context.js";
import { jobDomainCounts, LiveFitView } from "./live-fit-view.js";
import { preemptFor } from "./preemption.js";


/**
 * How many machines a work snapshot carries at most (Borg's relaxed randomization, at the
 * source): a scheduler scores only a few feasible machines per task anyway, and sending
 * and validating every machine of a large cell for one pending task is most of the delay.
 */
const MIN_MACHINES_SENT = 64;
const MACHINES_SENT_PER_TASK = 4;
/**
 * And never more than this: a full window of 2,000 tasks would otherwise carry every
 * machine of a 10,000-machine cell, which the leader packs and the scheduler validates
 * and collects as garbage on every fetch; each machine sent can take at least one of the
 * window's tasks, and a task placed nowhere in the sample is tried again on the next.
 * Sending 1,024 (4 a task, at least 64) rather than 4,096 (16 a task, at least 256) took
 * `throughput` from 747 to 439 µs of control-plane cpu per task: packing, sending,
 * validating and collecting machines the scheduler never chose was the largest cost left.
 */
const MAX_MACHINES_SENT = 1024;

/**
 * A uniform random sample of `count` machines among those `fits` accepts (all of them when
 * fewer do): a partial Fisher-Yates over every machine that stops once it has enough, so a
 * large cell's machines are not all looked at, nor copied into work nodes, for every window.
 */
function sampleFitting<T, R>(order: T[], count: number, fits: (item: T) => R | undefined): R[] {
  // `order` is the caller's own copy, shuffled in place.
  const chosen: R[] = [];
  for (let i = 0; i < order.length && chosen.length < count; i++) {
    const j = i + Math.floor(Math.random() * (order.length - i));
    const item = order[j]!;
    order[j] = order[i]!;
    const fitting = fits(item);
    if (fitting !== undefined) chosen.push(fitting);
  }
  return chosen;
}

/** Why a placement of the plan no longer stands, whatever the machine: the task moved on, or the machine is gone. */
function staleness(ctx: LeaderContext, placement: Placement): string | undefined {
  const ref = ctx.state.task(placement.taskId);
  if (ref === undefined) return "no such task";
  if (ref.task.lifecycle.state !== "pending") return `task is ${ref.task.lifecycle.state}, not pending`;
  if (ref.task.lifecycle.context.incarnation !== placement.incarnation) return "task has a newer incarnation";
  return undefined;
}

/** The task as the scheduling plugins take it: an alloc is a reservation, so never placed on reclaimed room. */
function requestOf(ref: TaskRef): TaskRequest {
  const { task, job } = ref;
  return { ...taskRequestFor(job.id, job.user, job.spec, task.index, task.lifecycle.context.incarnation), onLimitsOnly: isAlloc(job) };
}

/**
 * Plan apply (Omega's shared state, Nomad's plan apply): every placement is re-checked
 * against the leader's current state, with the scheduler's own filters over a live view of
 * it, and committed only if it still fits; the rest go back with the refusal, and the
 * scheduler retries only those. Then, for the plan's unplaced tasks, preemption.
 */
export async function applyPlan(ctx: LeaderContext, plan: Plan): Promise<{ committed: number; rejected: { taskId: string; reason: string; code?: string }[]; preempted: number }> {
  const { state } = ctx;
  if (plan.epoch !== ctx.epoch) {
    throw new CorralError("stale_epoch", `plan was made against epoch ${plan.epoch}; the leader's epoch is ${ctx.epoch}`, "epoch");
  }
  const batch = new CommandBatch();
  const view = new LiveFitView(state, ctx.reclamation);
  const filters = profileFor(ctx.policy).filters;
  const rejected: { taskId: string; reason: string; code?: string }[] = [];
  let committed = 0;
  for (const placement of plan.placements) {
    const stale = staleness(ctx, placement);
    const ref = state.task(placement.taskId);
    const machine = view.machine(placement.node);
    if (stale !== undefined || ref === undefined) {
      rejected.push({ taskId: placement.taskId, reason: stale ?? "no such task", code: "stale" });
      continue;
    }
    if (machine === undefined) {
      rejected.push({ taskId: placement.taskId, reason: `machine ${placement.node} is not up`, code: "stale" });
      continue;
    }
    const request = requestOf(ref);
    const refusal = assignedPortsRefusal(machine, placement.ports, request.requirements.ports) ?? firstRefusal(filters, request, machine, view);
    if (refusal !== undefined) {
      rejected.push({ taskId: placement.taskId, reason: `${refusal.text} on ${placement.node}`, code: refusal.code });
      continue;
    }
    batch.changed(state.transition(ref, { type: "SCHEDULE", node: placement.node, ports: placement.ports }));
    view.reserve(request, machine, placement.ports);
    // An alloc runs nothing: it holds its reservation from the moment it is placed.
    if (isAlloc(ref.job)) batch.changed(state.transition(ref, { type: "STARTED", pid: 0 }));
    else batch.grant(placement.node, leaseFor(ref, state));
    committed += 1;
  }
  const preempted = plan.unplaced === undefined ? 0 : preemptFor(ctx, plan.unplaced, batch);
  if (committed > 0 || preempted > 0) await ctx.commitAndSend(batch);
  return { committed, rejected, preempted };
}

export function serveScheduling(ctx: LeaderContext): Subscription[] {
  const { nc, cell, log, state } = ctx;
  return [
    serveRpc(nc, subjects.schedWork(cell), fetchWork, cell, log, ({ limit }) => {
      // The pending queue's order before the window is cut: bands, and users taking turns within
      // a band, so one user's job that fits nowhere cannot fill every window.
      const now = Date.now();
      const pending = state.pendingWindow(limit, now);
      // Machines that cannot take even the smallest pending task are left out: they could not be chosen.
      const smallest = { cpu: Infinity, ram: Infinity, disk: Infinity };
      for (const ref of pending) {
        const need = ref.job.spec.requirements;
        smallest.cpu = Math.min(smallest.cpu, need.cpu);
        smallest.ram = Math.min(smallest.ram, need.ram);
        smallest.disk = Math.min(smallest.disk, need.disk);
      }
      // Reclaimed room is worked out only when some pending task may use it (it costs a look at each machine's tasks).
      const reclaiming = pending.some((ref) => mayUseReclaimed(ref.job.spec.priority));
      const workNode = (node: NodeRecord): WorkNode | undefined => {
        if (node.state !== "up") return undefined;
        const usage = state.usage(node.name);
        const free = { cpu: node.capacity.cpu - usage.cpu, ram: node.capacity.ram - usage.ram, disk: node.capacity.disk - usage.disk };
        const reclaimable = reclaiming ? ctx.reclamation.reclaimableOn(state, node.name, now) : { cpu: 0, ram: 0 };
        if (resourceRefusal(smallest, { cpu: free.cpu + reclaimable.cpu, ram: free.ram + reclaimable.ram, disk: free.disk }) !== undefined) return undefined;
        return {
          name: node.name,
          capacity: node.capacity,
          free,
          portRange: node.portRange,
          usedPorts: [...usage.ports],
          attributes: node.attributes,
          ...(reclaimable.cpu > 0 || reclaimable.ram > 0 ? { reclaimable } : {}),
        };
      };
      const nodes = pending.length === 0 ? [] : sampleFitting([...state.nodes.values()], Math.min(MAX_MACHINES_SENT, Math.max(MIN_MACHINES_SENT, pending.length * MACHINES_SENT_PER_TASK)), workNode);
      // Jobs whose placement depends on where their other tasks are (every job but one with
      // spread 'none' and no max per machine): the machines sent say how many each has there,
      // and jobs that declare a spread get their counts over the whole cell.
      const placedJobs = new Set(pending.filter((ref) => ref.job.spec.maxPerMachine !== undefined || ref.job.spec.spread !== "none").map((ref) => ref.job.id));
      // Counted from the jobs' own tasks, not from each machine's: the pending jobs are mostly
      // new, with nothing placed, while the machines sent run thousands of other tasks.
      if (placedJobs.size > 0 && nodes.length > 0) {
        const sent = new Map(nodes.map((node) => [node.name, node]));
        for (const id of placedJobs) {
          for (const task of state.jobs.get(id)?.tasks ?? []) {
            const node = task.lifecycle.context.node;
            const offer = node === undefined || !isPlaced(task.lifecycle.state) ? undefined : sent.get(node);
            if (offer === undefined) continue;
            offer.jobTasks ??= {};
            offer.jobTasks[id] = (offer.jobTasks[id] ?? 0) + 1;
          }
        }
      }
      const jobDomains: Record<string, Partial<Record<SpreadDomain, Record<string, number>>>> = {};
      for (const jobId of placedJobs) {
        if (declaredSpread(state.jobs.get(jobId)?.spec.spread) === undefined) continue;
        jobDomains[jobId] = Object.fromEntries(SPREAD_DOMAINS.map((kind) => [kind, Object.fromEntries(jobDomainCounts(state, jobId, kind))]));
      }
      return {
        epoch: ctx.epoch,
        policy: ctx.policy,
        nodes,
        jobDomains,
        tasks: pending.map((ref) => {
          const spec = ref.job.spec;
          const crashedOn = ref.task.lifecycle.context.crashedOn;
          return {
            taskId: ref.id,
            incarnation: ref.task.lifecycle.context.incarnation,
            job: ref.job.id,
            user: ref.job.user,
            requirements: spec.requirements,
            priority: spec.priority,
            constraints: spec.constraints,
            preferences: spec.preferences,
            ...(spec.spread === undefined ? {} : { spread: spec.spread }),
            ...(spec.maxPerMachine === undefined ? {} : { maxPerMachine: spec.maxPerMachine }),
            ...(crashedOn === undefined || crashedOn.length === 0 ? {} : { avoid: crashedOn }),
            ...(isAlloc(ref.job) ? { onLimitsOnly: true as const } : { runtime: runtimeOf(spec) }),
          };
        }),
      };
    }),

    // The leader re-checks every placement against current state (Omega/Nomad plan apply)
    // and commits the ones that still fit; the rest go back with the reason.
    serveRpc(nc, subjects.schedPlan(cell), submitPlan, cell, log, async (plan) => {
      const result = await applyPlan(ctx, plan);
      // Several plans a second under load: only a preemption (which stops someone's tasks) is worth a line by default.
      log[result.preempted > 0 ? "info" : "debug"]({ scheduler: plan.scheduler, committed: result.committed, rejected: result.rejected.length, preempted: result.preempted }, "plan applied");
      return result;
    }),
  ];
}

/** How often the leader looks for tasks whose restart backoff has ended. */
const BACKOFF_CHECK_MS = 200;

/** Wakes the schedulers (or the alloc keeper) when a task's restart backoff ends. */
export function startBackoffWaker(ctx: LeaderContext): () => void {
  const timer = setInterval(() => {
    const due = ctx.state.takeDueBackoffs();
    if (due.length === 0) return;
    ctx.state.allocGeneration += 1;
    const batch = new CommandBatch();
    batch.wakeSchedulers();
    ctx.commitAndSend(batch).catch((error: unknown) => ctx.log.error({ err: (error as Error).message }, "could not wake the schedulers"));
  }, BACKOFF_CHECK_MS);
  return () => clearInterval(timer);
}
