// Resource reclamation: reservations decaying toward usage, so that reserved but idle room can run
// non-production work.
import type { JobRecord, TaskRecord } from "@corral/state";
import type { CellState } from "../state/cell-state.js";
import type { TaskRef } from "../state/task-ref.js";

/** What a reservation keeps above measured usage: a fraction, and a floor for tiny tasks. */
const MARGIN = 0.2;
const RAM_FLOOR = 8 * 1024 * 1024;
const CPU_FLOOR = 0.01;

interface Amount {
  cpu: number;
  ram: number;
}

/**
 * Borg's resource reclamation (§5.5): a task's reservation starts at its limit and decays
 * toward what it uses plus a margin, so what it reserves but does not use can run
 * non-production work. It decays with a half-life (slowly, so a short lull frees nothing),
 * and jumps back up at once when usage grows. Soft state, rebuilt from heartbeats.
 */
export class Reclamation {
  /**
   * Machines that ever had a task measured this term: only their tasks can hold a decayed
   * reservation, so every other machine is answered without looking at its tasks (the work
   * snapshot asks this of thousands of machines per fetch). Never pruned: a stale entry
   * only costs the full look.
   */
  private readonly measuredNodes = new Set<string>();

  constructor(private readonly halfLifeMs: number) {}

  /** A usage report: the decay so far is kept, and the reservation heads for the new target from there. */
  noteUsage(task: TaskRecord, job: JobRecord, usage: Amount, now = Date.now()): void {
    const node = task.lifecycle.context.node;
    if (node !== undefined) this.measuredNodes.add(node);
    const limit = job.spec.requirements;
    const target = { cpu: Math.min(limit.cpu, usage.cpu * (1 + MARGIN) + CPU_FLOOR), ram: Math.min(limit.ram, usage.ram * (1 + MARGIN) + RAM_FLOOR) };
    const current = task.reserve === undefined ? { cpu: limit.cpu, ram: limit.ram } : this.reservationOf(task, job, now);
    task.reserve = {
      // Growth is taken at once; only shrinking is gradual.
      from: { cpu: Math.max(current.cpu, target.cpu), ram: Math.max(current.ram, target.ram) },
      target,
      at: task.reserve === undefined ? task.updatedAt : now,
    };
  }

  /** What the task holds now: its limit, or its decayed reservation once its usage is known. */
  reservationOf(task: TaskRecord, job: JobRecord, now = Date.now()): Amount {
    const limit = job.spec.requirements;
    const reserve = task.reserve;
    if (reserve === undefined) return { cpu: limit.cpu, ram: limit.ram };
    const left = 0.5 ** (Math.max(0, now - reserve.at) / this.halfLifeMs);
    return { cpu: reserve.target.cpu + (reserve.from.cpu - reserve.target.cpu) * left, ram: reserve.target.ram + (reserve.from.ram - reserve.target.ram) * left };
  }

  /** What the machine's running tasks reserve below their limits: room for non-production work. */
  reclaimableOn(state: CellState, node: string, now = Date.now()): Amount {
    const reclaimable = { cpu: 0, ram: 0 };
    if (!this.measuredNodes.has(node)) return reclaimable;
    for (const ref of state.tasksOn(node)) {
      if (!this.counts(ref)) continue;
      const held = this.reservationOf(ref.task, ref.job, now);
      reclaimable.cpu += ref.job.spec.requirements.cpu - held.cpu;
      reclaimable.ram += ref.job.spec.requirements.ram - held.ram;
    }
    return { cpu: Math.max(0, reclaimable.cpu), ram: Math.max(0, Math.floor(reclaimable.ram)) };
  }

  /** Running tasks measured by their borglet, holding their own room on the machine (not an alloc's). */
  private counts(ref: TaskRef): boolean {
    return ref.task.reserve !== undefined && ref.task.lifecycle.state === "running" && ref.task.lifecycle.context.alloc === undefined && ref.job.spec.kind !== "alloc";
  }
}
