import type { Placement, WorkSnapshot } from "@corral/contracts";
import { bestFitScore } from "./best-fit.js";
import { candidateFrom, choosePorts, infeasibility, reserve, type CandidateNode, type Infeasibility } from "./feasibility.js";

export interface PlacementRound {
  placements: Placement[];
  /** tasks that fit nowhere, with how many machines refused them for each reason */
  unplaced: { taskId: string; refusals: Partial<Record<Infeasibility, number>> }[];
}

export interface PlacementOptions {
  /**
   * Stop looking once this many feasible machines were scored (Borg's relaxed
   * randomization): scoring every machine for every task is O(tasks × machines).
   */
  searchLimit: number;
  /** where each task's search starts; random spreads load and keeps searches short */
  random: () => number;
}

/**
 * Places the snapshot's pending tasks, highest priority first as the leader sent them:
 * feasibility, then best-fit scoring, reserving as it goes so one round never overcommits.
 */
export function placeTasks(work: WorkSnapshot, options: PlacementOptions = { searchLimit: Infinity, random: () => 0 }): PlacementRound {
  const nodes = work.nodes.map(candidateFrom);
  const round: PlacementRound = { placements: [], unplaced: [] };
  for (const task of work.tasks) {
    let best: CandidateNode | undefined;
    let bestScore = Infinity;
    let feasible = 0;
    const refusals: Partial<Record<Infeasibility, number>> = {};
    const start = Math.floor(options.random() * nodes.length);
    for (let examined = 0; examined < nodes.length && feasible < options.searchLimit; examined++) {
      const node = nodes[(start + examined) % nodes.length]!;
      const why = infeasibility(task, node);
      if (why !== undefined) {
        refusals[why] = (refusals[why] ?? 0) + 1;
        continue;
      }
      feasible += 1;
      const score = bestFitScore(task, node);
      if (best === undefined || score < bestScore || (score === bestScore && node.name < best.name)) {
        best = node;
        bestScore = score;
      }
    }
    if (best === undefined) {
      round.unplaced.push({ taskId: task.taskId, refusals });
      continue;
    }
    const ports = choosePorts(best, task.requirements.ports);
    reserve(best, task, ports);
    round.placements.push({ taskId: task.taskId, incarnation: task.incarnation, node: best.name, ports });
  }
  return round;
}
