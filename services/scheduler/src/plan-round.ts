import type { PendingTask, Placement, WorkSnapshot } from "@corral/contracts";
import { CellSnapshot, pendingOrder, Placer, type JobDomainTasks, type MachineOffer, type TaskRequest, type Unplaced } from "@corral/scheduling";

export interface PlanRound {
  placements: Placement[];
  unplaced: Unplaced[];
}

function requestOf(task: PendingTask): TaskRequest {
  return {
    taskId: task.taskId,
    incarnation: task.incarnation,
    job: task.job,
    user: task.user,
    band: task.priority,
    requirements: task.requirements,
    constraints: task.constraints,
    preferences: task.preferences,
    ...(task.spread === undefined ? {} : { spread: task.spread }),
    ...(task.maxPerMachine === undefined ? {} : { maxPerMachine: task.maxPerMachine }),
    ...(task.avoid === undefined ? {} : { avoid: task.avoid }),
    ...(task.onLimitsOnly === true ? { onLimitsOnly: true } : {}),
    ...(task.runtime === undefined ? {} : { runtime: task.runtime }),
  };
}

/**
 * One scheduling pass over a work snapshot from the leader: the pending queue's order
 * (bands, users taking turns), then the shared placement pipeline with the cell's policy.
 */
export function planRound(work: WorkSnapshot, options: { random: () => number; explain: boolean }): PlanRound {
  const offers: MachineOffer[] = work.nodes;
  const cell = new CellSnapshot(offers, work.jobDomains as Readonly<Record<string, JobDomainTasks>> | undefined);
  const placer = new Placer(cell, { policy: work.policy ?? "hybrid", random: options.random, explain: options.explain });
  return placer.placeAll(pendingOrder(work.tasks.map(requestOf)));
}
