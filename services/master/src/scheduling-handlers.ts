import { CorralError, fetchWork, SPREAD_DOMAINS, subjects, submitPlan, type Placement, type Plan, type SpreadDomain, type WorkNode } from "@corral/contracts";
import { serveRpc, type Subscription } from "@corral/kit";
import { mayUseReclaimed } from "@corral/scheduling";
import { isAlloc, type NodeRecord, type NodeUsage } from "./cell-state.js";
import { CommandBatch, leaseFor } from "./commands.js";
import type { LeaderContext } from "./leader-context.js";
import { jobDomainCounts, PlacementRules } from "./placement-rules.js";
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

/** Why a placement no longer fits, or undefined when it does. */
function misfit(ctx: LeaderContext, rules: PlacementRules, placement: Placement, usage: Readonly<NodeUsage> & { ports: ReadonlySet<number> } | undefined): string | undefined {
  const ref = ctx.state.task(placement.taskId);
  if (ref === undefined) return "no such task";
  if (ref.task.lifecycle.state !== "pending") return `task is ${ref.task.lifecycle.state}, not pending`;
  if (ref.task.lifecycle.context.incarnation !== placement.incarnation) return "task has a newer incarnation";
  const node = ctx.state.nodes.get(placement.node);
  if (node === undefined || node.state !== "up" || usage === undefined) return `machine ${placement.node} is not up`;
  const need = ref.job.spec.requirements;
  // Batch and best-effort work may also take what running tasks reserve but do not use.
  const extra = mayUseReclaimed(ref.job.spec.priority) && !isAlloc(ref.job) ? ctx.reclamation.reclaimableOn(ctx.state, placement.node) : { cpu: 0, ram: 0 };
  if (usage.cpu + need.cpu > node.capacity.cpu + extra.cpu + 1e-9) return "not enough cpu left";
  if (usage.ram + need.ram > node.capacity.ram + extra.ram) return "not enough ram left";
  if (usage.disk + need.disk > node.capacity.disk) return "not enough disk left";
  if (placement.ports.length !== need.ports) return `needs ${need.ports} ports, plan gave ${placement.ports.length}`;
  const [low, high] = node.portRange;
  for (const port of placement.ports) {
    if (port < low || port > high) return `port ${port} is outside ${placement.node}'s range ${low}-${high}`;
    if (usage.ports.has(port)) return `port ${port} is taken on ${placement.node}`;
  }
  if (new Set(placement.ports).size !== placement.ports.length) return "the plan gives one port twice";
  return rules.refusal(ref.job.id, ref.job.spec, node);
}

/**
 * Plan apply (Omega's shared state, Nomad's plan apply): every placement is re-checked
 * against the leader's current state and committed only if it still fits; the rest go back
 * with the reason, and the scheduler retries only those. Then, for the plan's unplaced
 * tasks, preemption.
 */
export async function applyPlan(ctx: LeaderContext, plan: Plan): Promise<{ committed: number; rejected: { taskId: string; reason: string }[]; preempted: number }> {
  const { state } = ctx;
  if (plan.epoch !== ctx.epoch) {
    throw new CorralError("stale_epoch", `plan was made against epoch ${plan.epoch}; the leader's epoch is ${ctx.epoch}`, "epoch");
  }
  const batch = new CommandBatch();
  const rules = new PlacementRules(state);
  const rejected: { taskId: string; reason: string }[] = [];
  let committed = 0;
  for (const placement of plan.placements) {
    // Usage is live: each committed placement below is already counted for the next one.
    const usage = state.nodes.get(placement.node)?.state === "up" ? state.usage(placement.node) : undefined;
    const reason = misfit(ctx, rules, placement, usage);
    const ref = state.task(placement.taskId);
    if (reason !== undefined || ref === undefined || usage === undefined) {
      rejected.push({ taskId: placement.taskId, reason: reason ?? "no such task" });
      continue;
    }
    batch.changed(state.transition(ref, { type: "SCHEDULE", node: placement.node, ports: placement.ports }));
    rules.placed(ref.job.id, ref.job.spec, state.nodes.get(placement.node)!);
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
        if (free.cpu + reclaimable.cpu + 1e-9 < smallest.cpu || free.ram + reclaimable.ram < smallest.ram || free.disk < smallest.disk) return undefined;
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
      // Jobs whose rules depend on where their other tasks are: the machines sent say how many
      // each has there, and spreading jobs get their counts over the whole cell.
      const placedJobs = new Set(pending.filter((ref) => ref.job.spec.maxPerMachine !== undefined || ref.job.spec.spread !== undefined).map((ref) => ref.job.id));
      if (placedJobs.size > 0) {
        for (const node of nodes) {
          const jobTasks: Record<string, number> = {};
          for (const ref of state.tasksOn(node.name)) if (placedJobs.has(ref.job.id)) jobTasks[ref.job.id] = (jobTasks[ref.job.id] ?? 0) + 1;
          node.jobTasks = jobTasks;
        }
      }
      const jobDomains: Record<string, Partial<Record<SpreadDomain, Record<string, number>>>> = {};
      for (const jobId of placedJobs) {
        const spread = state.jobs.get(jobId)?.spec.spread;
        if (spread === undefined) continue;
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
            ...(isAlloc(ref.job) ? { onLimitsOnly: true as const } : {}),
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
