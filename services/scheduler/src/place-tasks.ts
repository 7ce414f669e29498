import type { Placement, WorkSnapshot } from "@corral/contracts";
import { bestFitScore } from "./best-fit.js";
import { candidateFrom, choosePorts, infeasibility, reserve, type Infeasibility } from "./feasibility.js";

export interface PlacementRound {
  placements: Placement[];
  /** tasks that fit nowhere, with how many machines refused them for each reason */
  unplaced: { taskId: string; refusals: Partial<Record<Infeasibility, number>> }[];
}

/**
 * Places the snapshot's pending tasks, highest priority first as the leader sent them:
 * feasibility, then best-fit scoring, reserving as it goes so one round never overcommits.
 */
export function placeTasks(work: WorkSnapshot): PlacementRound {
  const nodes = work.nodes.map(candidateFrom);
  const round: PlacementRound = { placements: [], unplaced: [] };
  for (const task of work.tasks) {
    let best: { node: (typeof nodes)[number]; score: number } | undefined;
    const refusals: Partial<Record<Infeasibility, number>> = {};
    for (const node of nodes) {
      const why = infeasibility(task, node);
      if (why !== undefined) {
        refusals[why] = (refusals[why] ?? 0) + 1;
        continue;
      }
      const score = bestFitScore(task, node);
      if (best === undefined || score < best.score || (score === best.score && node.name < best.node.name)) best = { node, score };
    }
    if (best === undefined) {
      round.unplaced.push({ taskId: task.taskId, refusals });
      continue;
    }
    const ports = choosePorts(best.node, task.requirements.ports);
    reserve(best.node, task, ports);
    round.placements.push({ taskId: task.taskId, incarnation: task.incarnation, node: best.node.name, ports });
  }
  return round;
}
