import { CorralError, fetchWork, subjects, submitPlan, type Placement, type WorkNode } from "@corral/contracts";
import { serveRpc, type Subscription } from "@corral/kit";
import type { NodeUsage, TaskRef } from "./cell-state.js";
import { CommandBatch, leaseFor } from "./commands.js";
import type { LeaderContext } from "./leader-context.js";

const PRIORITY_ORDER = { monitoring: 0, production: 1, batch: 2, "best-effort": 3 } as const;

/**
 * How many machines a work snapshot carries at most (Borg's relaxed randomization, at the
 * source): a scheduler scores only a few feasible machines per task anyway, and sending
 * and validating every machine of a large cell for one pending task is most of the delay.
 */
const MIN_MACHINES_SENT = 256;
const MACHINES_SENT_PER_TASK = 16;

/** A uniform random sample (partial Fisher-Yates), or all of them when there are few. */
function sampleMachines(machines: WorkNode[], count: number): WorkNode[] {
  if (machines.length <= count) return machines;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(Math.random() * (machines.length - i));
    [machines[i], machines[j]] = [machines[j]!, machines[i]!];
  }
  return machines.slice(0, count);
}

/** Why a placement no longer fits, or undefined when it does. */
function misfit(ctx: LeaderContext, placement: Placement, usage: Readonly<NodeUsage> & { ports: ReadonlySet<number> } | undefined): string | undefined {
  const ref = ctx.state.task(placement.taskId);
  if (ref === undefined) return "no such task";
  if (ref.task.lifecycle.state !== "pending") return `task is ${ref.task.lifecycle.state}, not pending`;
  if (ref.task.lifecycle.context.incarnation !== placement.incarnation) return "task has a newer incarnation";
  const node = ctx.state.nodes.get(placement.node);
  if (node === undefined || node.state !== "up" || usage === undefined) return `machine ${placement.node} is not up`;
  const need = ref.job.spec.requirements;
  if (usage.cpu + need.cpu > node.capacity.cpu + 1e-9) return "not enough cpu left";
  if (usage.ram + need.ram > node.capacity.ram) return "not enough ram left";
  if (usage.disk + need.disk > node.capacity.disk) return "not enough disk left";
  if (placement.ports.length !== need.ports) return `needs ${need.ports} ports, plan gave ${placement.ports.length}`;
  const [low, high] = node.portRange;
  for (const port of placement.ports) {
    if (port < low || port > high) return `port ${port} is outside ${placement.node}'s range ${low}-${high}`;
    if (usage.ports.has(port)) return `port ${port} is taken on ${placement.node}`;
  }
  if (new Set(placement.ports).size !== placement.ports.length) return "the plan gives one port twice";
  return undefined;
}

export function serveScheduling(ctx: LeaderContext): Subscription[] {
  const { nc, cell, log, state } = ctx;
  return [
    serveRpc(nc, subjects.schedWork(cell), fetchWork, cell, log, ({ limit }) => {
      // Highest band first; within a band, the order tasks became pending (the pending set keeps it).
      const bands: TaskRef[][] = [[], [], [], []];
      for (const ref of state.pendingTasks()) bands[PRIORITY_ORDER[ref.job.spec.priority]]!.push(ref);
      const pending = bands.flat().slice(0, limit);
      // Machines that cannot take even the smallest pending task are left out: they could not be chosen.
      const smallest = { cpu: Infinity, ram: Infinity, disk: Infinity };
      for (const ref of pending) {
        const need = ref.job.spec.requirements;
        smallest.cpu = Math.min(smallest.cpu, need.cpu);
        smallest.ram = Math.min(smallest.ram, need.ram);
        smallest.disk = Math.min(smallest.disk, need.disk);
      }
      const candidates: WorkNode[] = [];
      for (const node of pending.length === 0 ? [] : state.nodes.values()) {
        if (node.state !== "up") continue;
        const usage = state.usage(node.name);
        const free = { cpu: node.capacity.cpu - usage.cpu, ram: node.capacity.ram - usage.ram, disk: node.capacity.disk - usage.disk };
        if (free.cpu + 1e-9 < smallest.cpu || free.ram < smallest.ram || free.disk < smallest.disk) continue;
        candidates.push({ name: node.name, capacity: node.capacity, free, portRange: node.portRange, usedPorts: [...usage.ports], attributes: node.attributes });
      }
      const nodes = sampleMachines(candidates, Math.max(MIN_MACHINES_SENT, pending.length * MACHINES_SENT_PER_TASK));
      return {
        epoch: ctx.epoch,
        nodes,
        tasks: pending.map((ref) => ({
          taskId: ref.id,
          incarnation: ref.task.lifecycle.context.incarnation,
          requirements: ref.job.spec.requirements,
          priority: ref.job.spec.priority,
        })),
      };
    }),

    // The leader re-checks every placement against current state (Omega/Nomad plan apply)
    // and commits the ones that still fit; the rest go back with the reason.
    serveRpc(nc, subjects.schedPlan(cell), submitPlan, cell, log, async ({ epoch, placements, scheduler }) => {
      if (epoch !== ctx.epoch) {
        throw new CorralError("stale_epoch", `plan was made against epoch ${epoch}; the leader's epoch is ${ctx.epoch}`, "epoch");
      }
      const batch = new CommandBatch();
      const rejected: { taskId: string; reason: string }[] = [];
      let committed = 0;
      for (const placement of placements) {
        // Usage is live: each committed placement below is already counted for the next one.
        const usage = state.nodes.get(placement.node)?.state === "up" ? state.usage(placement.node) : undefined;
        const reason = misfit(ctx, placement, usage);
        const ref = state.task(placement.taskId);
        if (reason !== undefined || ref === undefined || usage === undefined) {
          rejected.push({ taskId: placement.taskId, reason: reason ?? "no such task" });
          continue;
        }
        batch.changed(state.transition(ref, { type: "SCHEDULE", node: placement.node, ports: placement.ports }));
        batch.grant(placement.node, leaseFor(ref));
        committed += 1;
      }
      if (committed > 0) await ctx.commitAndSend(batch);
      log.info({ scheduler, committed, rejected: rejected.length }, "plan applied");
      return { committed, rejected };
    }),
  ];
}
