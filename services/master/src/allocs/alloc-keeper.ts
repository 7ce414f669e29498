// The leader's upkeep of alloc sets: allocs hold their reservations and their jobs' tasks are placed
// in them by the leader itself, not by schedulers.
import { taskId, type Requirements } from "@corral/contracts";
import { refusals, resourceRefusal, type Refusal } from "@corral/scheduling";
import { allocSetIdOf } from "./alloc-sets.js";
import { eligibleAt, taskRefOf, type TaskRef } from "../state/task-ref.js";
import type { CellState } from "../state/cell-state.js";
import { CommandBatch, leaseFor, revocationFor } from "../leader/commands.js";
import type { LeaderContext } from "../leader/leader-context.js";

/** How often the keeper looks for alloc work; a pass with nothing changed since the last is skipped. */
const KEEPER_TICK_MS = 25;
/** What the change counter does not see (a machine up again, ports freed by others) is picked up this often. */
const KEEPER_BACKSTOP_MS = 1000;

/**
 * Why the alloc cannot take one more task needing `need`, or undefined when it can: the
 * alloc must be holding its reservation on a machine that is up, with room left in the
 * reservation (the same resource check as a machine's) and free ports on the machine.
 * The texts name no alloc, so "why pending?" can count allocs by them.
 */
export function allocRefusal(state: CellState, alloc: TaskRef, need: Requirements, planned: PlannedUse = NOTHING_PLANNED): Refusal | undefined {
  if (alloc.task.lifecycle.state !== "running") return refusals.allocNotReady(`alloc is ${alloc.task.lifecycle.state}`);
  const nodeName = alloc.task.lifecycle.context.node;
  const node = nodeName === undefined ? undefined : state.nodes.get(nodeName);
  if (node === undefined || node.state !== "up" || node.awaitingFirstHeartbeat === true) return refusals.allocNotReady("the alloc's machine is not up");
  const size = alloc.job.spec.requirements;
  const used = state.allocUsage(alloc.id);
  const room = { cpu: size.cpu - used.cpu - planned.cpu, ram: size.ram - used.ram - planned.ram, disk: size.disk - used.disk - planned.disk };
  const short = resourceRefusal(need, room);
  if (short !== undefined) return { code: short.code, text: `${short.text} left in the alloc` };
  if (need.ports > 0 && freePorts(state, node.name, node.portRange, need.ports + planned.ports) === undefined) return { code: refusals.ports.code, text: "not enough free ports on its machine" };
  return undefined;
}

/** What a plan has already put in an alloc, on top of what runs there. */
export interface PlannedUse {
  cpu: number;
  ram: number;
  disk: number;
  ports: number;
}

const NOTHING_PLANNED: Readonly<PlannedUse> = Object.freeze({ cpu: 0, ram: 0, disk: 0, ports: 0 });

/**
 * Where a job's tasks would go in its alloc set now, committing nothing (for `corral plan`):
 * each task in the first alloc the keeper would choose, with the room earlier tasks took.
 */
export function planInAllocSet(state: CellState, set: TaskRef["job"], jobId: string, need: Requirements, replicas: number): { placements: { task: string; node: string; alloc: string }[]; unplaced: { task: string; refusals: Map<string, number> }[] } {
  const planned = new Map<string, PlannedUse>();
  const placements: { task: string; node: string; alloc: string }[] = [];
  const unplaced: { task: string; refusals: Map<string, number> }[] = [];
  for (let index = 0; index < replicas; index++) {
    const counts = new Map<string, number>();
    let chosen: TaskRef | undefined;
    for (const alloc of allocsFor(state, set, index)) {
      const use = planned.get(alloc.id) ?? { ...NOTHING_PLANNED };
      const refusal = allocRefusal(state, alloc, need, use);
      if (refusal !== undefined) {
        counts.set(refusal.text, (counts.get(refusal.text) ?? 0) + 1);
        continue;
      }
      planned.set(alloc.id, { cpu: use.cpu + need.cpu, ram: use.ram + need.ram, disk: use.disk + need.disk, ports: use.ports + need.ports });
      chosen = alloc;
      break;
    }
    if (chosen === undefined) unplaced.push({ task: taskId(index, jobId), refusals: counts });
    else placements.push({ task: taskId(index, jobId), node: chosen.task.lifecycle.context.node!, alloc: chosen.id });
  }
  return { placements, unplaced };
}

/** The lowest `count` ports of the range that nothing on the machine holds, or undefined. */
function freePorts(state: CellState, node: string, [low, high]: [number, number], count: number): number[] | undefined {
  const taken = state.usage(node).ports;
  const ports: number[] = [];
  for (let port = low; port <= high && ports.length < count; port++) if (!taken.has(port)) ports.push(port);
  return ports.length === count ? ports : undefined;
}

/**
 * The allocs a task may go to, best first: the alloc with the task's own index (so task i of
 * every job in the set shares alloc i, which is what allocs are for: helpers beside their
 * main task), then the others by most room left.
 */
function allocsFor(state: CellState, allocSet: TaskRef["job"], index: number): TaskRef[] {
  const refs = allocSet.tasks.map((task) => (taskRefOf(allocSet, task)));
  const room = (ref: TaskRef) => ref.job.spec.requirements.ram - state.allocUsage(ref.id).ram;
  return refs.sort((a, b) => Number(b.task.index === index) - Number(a.task.index === index) || room(b) - room(a));
}

/**
 * The leader's upkeep of alloc sets (Borg §2.4), in one pass:
 * - a newly placed alloc holds its reservation at once (no process runs for it);
 * - a stopping alloc first stops the tasks in it, and lets its reservation go once they are gone;
 * - pending tasks of jobs in alloc sets go into allocs with room.
 * Returns how many tasks it placed.
 */
export function keepAllocs(state: CellState, batch: CommandBatch): number {
  for (const setId of state.allocSets) {
    const set = state.jobs.get(setId);
    if (set === undefined) continue;
    for (const task of set.tasks) {
      const alloc: TaskRef = taskRefOf(set, task);
      if (task.lifecycle.state === "assigned") batch.changed(state.transition(alloc, { type: "STARTED", pid: 0 }));
      else if (task.lifecycle.state === "terminating") releaseAlloc(state, alloc, batch);
    }
  }
  let placed = 0;
  const now = Date.now();
  for (const ref of state.pendingInAllocTasks()) {
    if (eligibleAt(ref) > now) continue; // waiting out its restart backoff
    const setId = allocSetIdOf(ref.job);
    const set = setId === undefined ? undefined : state.jobs.get(setId);
    if (set === undefined || set.killed) continue;
    const need = ref.job.spec.requirements;
    for (const alloc of allocsFor(state, set, ref.task.index)) {
      if (allocRefusal(state, alloc, need) !== undefined) continue;
      const node = alloc.task.lifecycle.context.node!;
      const ports = freePorts(state, node, state.nodes.get(node)!.portRange, need.ports)!;
      if (batch.changed(state.transition(ref, { type: "SCHEDULE", node, ports, alloc: alloc.id })) === undefined) break;
      batch.grant(node, leaseFor(ref, state));
      placed += 1;
      break;
    }
  }
  return placed;
}

/** A stopping alloc: the tasks in it go first (preempted with it, or moved out); then the reservation. */
function releaseAlloc(state: CellState, alloc: TaskRef, batch: CommandBatch): void {
  const inside = [...state.allocUsage(alloc.id).tasks];
  if (inside.length === 0) {
    batch.changed(state.transition(alloc, { type: "EXITED" }));
    return;
  }
  const preemptedBy = alloc.task.lifecycle.context.preemptedBy;
  for (const id of inside) {
    const ref = state.task(id);
    const node = ref?.task.lifecycle.context.node;
    if (ref === undefined || node === undefined || ref.task.lifecycle.state === "terminating") continue;
    const reason = preemptedBy === undefined ? `its alloc ${alloc.id} was stopped` : `preempted by ${preemptedBy}`;
    const event = preemptedBy === undefined ? ({ type: "LOST", reason, cause: "alloc_stopped" } as const) : ({ type: "PREEMPT", by: preemptedBy } as const);
    if (batch.changed(state.transition(ref, event)) !== undefined) batch.revoke(node, revocationFor(ref, reason));
  }
}

/** Jobs that still have live tasks in the alloc set: an alloc set cannot be killed or replaced under them. */
export function liveJobsIn(state: CellState, allocSetId: string, user: string): string[] {
  const names: string[] = [];
  for (const job of state.jobsOf(user)) {
    if (allocSetIdOf(job) === allocSetId && job.tasks.some((task) => task.lifecycle.state !== "dead")) names.push(job.name);
  }
  return names.sort();
}

/** Runs the keeper for the term: a pass whenever allocs or their jobs changed, and now and then regardless. */
export function startAllocKeeper(ctx: LeaderContext): () => void {
  let generationSeen = -1;
  let lastPass = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    if (ctx.state.allocGeneration === generationSeen && now - lastPass < KEEPER_BACKSTOP_MS) return;
    lastPass = now;
    const batch = new CommandBatch();
    const placed = keepAllocs(ctx.state, batch);
    generationSeen = ctx.state.allocGeneration;
    if (batch.isEmpty) return;
    if (placed > 0) ctx.log.debug({ placed }, "placed tasks in allocs");
    ctx.commitAndSend(batch).catch((error: unknown) => ctx.log.error({ err: (error as Error).message }, "could not commit alloc changes"));
  }, KEEPER_TICK_MS);
  return () => clearInterval(timer);
}
