import type { Machine } from "./cell-snapshot.js";
import type { TaskRequest } from "./model.js";
import type { Constraint, SpreadDomain } from "@corral/contracts";
import type { Refusal } from "./refusal.js";

/**
 * What plugins may ask of the cell beyond one machine: where a job's tasks are. The
 * scheduler's per-cycle snapshot answers it, and so does the leader's live view of its
 * state when it applies a plan, so both decide fit with the same plugins.
 */
export interface FitCell {
  /** tasks of the job in the domain of this kind */
  jobTasksIn(job: string, kind: SpreadDomain, domain: string): number;
  /** the fewest tasks of the job in any domain of this kind that its hard constraints allow */
  fewestJobTasks(job: string, kind: SpreadDomain, constraints: readonly Constraint[]): number;
}

/**
 * A feasibility filter (Kubernetes' Filter extension point): says why a machine cannot
 * take the task, or undefined when it can. Refusals are short and stable, since "why
 * pending?" counts machines by them.
 */
export interface FilterPlugin {
  readonly name: string;
  filter(task: TaskRequest, machine: Machine, cell: FitCell): Refusal | undefined;
  /** the answer also depends on the job's tasks on other machines (so a cached answer expires when the job moves) */
  readonly readsJobPlacement?: boolean;
  /** the plugin has nothing to say about this task (so it can be skipped) */
  appliesTo?(task: TaskRequest): boolean;
}

/**
 * A scorer (Kubernetes' Score extension point): higher is better, from 0 to 100 (a score
 * outside is clamped), so that no scorer's scale decides alone; the profile weighs them.
 */
export interface ScorePlugin {
  readonly name: string;
  score(task: TaskRequest, machine: Machine, cell: FitCell): number;
  readonly readsJobPlacement?: boolean;
  /**
   * The answer depends on the job's own tasks on the machine, though the task's equivalence
   * class may be shared with other jobs: scored at each choice, never kept in the class.
   */
  readonly jobBound?: boolean;
  appliesTo?(task: TaskRequest): boolean;
}

/** Every plugin folder exports one of these: a name and a factory. */
export interface FilterFactory {
  readonly name: string;
  create(): FilterPlugin;
}

export interface ScorerFactory {
  readonly name: string;
  create(): ScorePlugin;
}

/** The first filter's reason to refuse the machine, or undefined when every filter lets the task through. */
export function firstRefusal(filters: readonly FilterPlugin[], task: TaskRequest, machine: Machine, cell: FitCell): Refusal | undefined {
  for (const filter of filters) {
    if (filter.appliesTo !== undefined && !filter.appliesTo(task)) continue;
    const reason = filter.filter(task, machine, cell);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** A scorer as a profile runs it: how much its 0–100 counts against the others. */
export interface WeightedScorer {
  readonly plugin: ScorePlugin;
  readonly weight: number;
}

export const MAX_SCORE = 100;

/** The machine's score for the task: each scorer that applies, clamped to 0–100, times its weight, summed. */
export function totalScore(scorers: readonly WeightedScorer[], task: TaskRequest, machine: Machine, cell: FitCell): number {
  let total = 0;
  for (const { plugin, weight } of scorers) {
    if (plugin.appliesTo !== undefined && !plugin.appliesTo(task)) continue;
    total += weight * Math.min(MAX_SCORE, Math.max(0, plugin.score(task, machine, cell)));
  }
  return total;
}
