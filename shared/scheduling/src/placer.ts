import type { CellSnapshot, Machine } from "./cell-snapshot.js";
import { EquivalenceClasses } from "./equivalence.js";
import type { TaskRequest } from "./model.js";
import { declaredSpread, type Placement } from "@corral/contracts";
import { firstRefusal, MAX_SCORE, totalScore } from "./plugin.js";
import type { Refusal } from "./refusal.js";
import { profileFor, type Policy, type Profile } from "./registry.js";

/** Borg's scale techniques (§3.4), each switchable so the benchmark can measure what it buys. */
export interface Techniques {
  /** tasks that ask the same share one examination of the cell, and its scored machines */
  equivalenceClasses: boolean;
  /** a machine's answer for a class is kept until the machine (or, for spread, the job) changes */
  scoreCache: boolean;
  /** machines are examined in random order, only until enough feasible ones were scored */
  relaxedRandomization: boolean;
  /** one search examines at most `examineLimit` machines (Nomad's limit iterator) */
  boundedSearch: boolean;
}

export const ALL_TECHNIQUES: Techniques = { equivalenceClasses: true, scoreCache: true, relaxedRandomization: true, boundedSearch: true };

export interface PlacerOptions {
  policy: Policy;
  techniques?: Partial<Techniques>;
  /** feasible machines scored before choosing, with relaxed randomization */
  enoughFeasible?: number;
  /** machines one search examines at most, with bounded search */
  examineLimit?: number;
  random?: () => number;
  /** count, for each task that fits nowhere, the machines each filter refused ("why pending?") */
  explain?: boolean;
}

export interface Unplaced {
  task: TaskRequest;
  /** filter reason → machines it refused; empty unless `explain` */
  refusals: Record<string, number>;
}

export interface PlacementRound {
  placements: Placement[];
  unplaced: Unplaced[];
}

/** A machine's answer for a class, remembered with the versions it was worked out at. */
interface Evaluation {
  machine: Machine;
  feasible: boolean;
  reason: Refusal | undefined;
  score: number;
  version: number;
  jobVersion: number;
}

interface ClassSearch {
  /** the feasible machines the class has scored */
  candidates: Evaluation[];
  /** the class's score cache, when on */
  cache: Map<number, Evaluation> | undefined;
  /** where in the examination order the next machine comes from */
  cursor: number;
  examined: number;
  /** the job version at which every machine had been examined; examining again helps only after the job moved (spread) */
  exhaustedAt: number | undefined;
}

const DEFAULT_ENOUGH_FEASIBLE = 64;
const DEFAULT_EXAMINE_LIMIT = 1000;

/**
 * Places tasks on a snapshot: feasibility filters, then scorers, with Borg's scale
 * techniques. Tasks are placed in the order given (the pending queue's), each reserving
 * what it takes before the next, so one round never overcommits a machine or a port.
 */
export class Placer {
  private readonly profile: Profile;
  private readonly techniques: Techniques;
  private readonly order: Machine[];
  private readonly enough: number;
  private readonly examineLimit: number;
  private readonly random: () => number;
  private readonly classes = new Map<string, ClassSearch>();
  private readonly classOf = new EquivalenceClasses();
  private readonly cache = new Map<string, Map<number, Evaluation>>();
  private readonly explanations = new Map<string, Record<string, number>>();

  constructor(
    private readonly cell: CellSnapshot,
    private readonly options: PlacerOptions,
  ) {
    this.profile = profileFor(options.policy);
    this.techniques = { ...ALL_TECHNIQUES, ...options.techniques };
    this.random = options.random ?? Math.random;
    this.order = this.techniques.relaxedRandomization ? shuffled(cell.machines, this.random) : [...cell.machines];
    this.enough = this.techniques.relaxedRandomization ? (options.enoughFeasible ?? DEFAULT_ENOUGH_FEASIBLE) : Infinity;
    this.examineLimit = this.techniques.boundedSearch ? (options.examineLimit ?? DEFAULT_EXAMINE_LIMIT) : Infinity;
  }

  placeAll(tasks: readonly TaskRequest[], options: { stopAtFirstUnplaced?: boolean } = {}): PlacementRound {
    const round: PlacementRound = { placements: [], unplaced: [] };
    for (const task of tasks) {
      const placement = this.place(task);
      if (placement !== undefined) {
        round.placements.push(placement);
        continue;
      }
      round.unplaced.push({ task, refusals: this.options.explain === true ? this.explain(task) : {} });
      if (options.stopAtFirstUnplaced === true) break;
    }
    return round;
  }

  /** Places one task, reserving its resources; undefined when no examined machine can take it. */
  place(task: TaskRequest): Placement | undefined {
    const machine = this.techniques.equivalenceClasses ? this.chooseForClass(task) : this.chooseAlone(task);
    if (machine === undefined) return undefined;
    const ports = this.cell.choosePorts(machine, task.requirements.ports);
    this.cell.reserve(task, machine, ports);
    return { taskId: task.taskId, incarnation: task.incarnation, node: machine.name, ports };
  }

  /** Without equivalence classes: a fresh search for every task. */
  private chooseAlone(task: TaskRequest): Machine | undefined {
    const cache = this.techniques.scoreCache ? this.cacheOf(this.classOf.of(task)) : undefined;
    const jobVersion = this.cell.jobVersion(task.job);
    const start = this.techniques.relaxedRandomization ? Math.floor(this.random() * this.order.length) : 0;
    const best = new BestMachine(this.jobScoreAtMost(task));
    let feasible = 0;
    const limit = Math.min(this.order.length, this.examineLimit);
    for (let examined = 0; examined < limit && feasible < this.enough; examined++) {
      const machine = this.order[(start + examined) % this.order.length]!;
      const evaluation = this.evaluate(task, cache, machine, jobVersion);
      if (!evaluation.feasible) continue;
      feasible += 1;
      if (best.mayWin(evaluation.score)) best.offer(machine, this.scoreOf(task, evaluation));
    }
    return best.machine;
  }

  /** What the class's answer scored, plus the scorers of the job's own tasks on the machine (never kept in a class). */
  private scoreOf(task: TaskRequest, evaluation: Evaluation): number {
    return evaluation.score + totalScore(this.profile.jobScorers, task, evaluation.machine, this.cell);
  }

  /** The most the job-bound scorers can add for this task. */
  private jobScoreAtMost(task: TaskRequest): number {
    let most = 0;
    for (const { plugin, weight } of this.profile.jobScorers) if (plugin.appliesTo === undefined || plugin.appliesTo(task)) most += weight * MAX_SCORE;
    return most;
  }

  /**
   * With equivalence classes: the class keeps the machines it scored. A task re-scores
   * only those that changed since (a task went there, or the job's spread moved), tops the
   * set up to `enough` from where the class's walk of the cell stopped, and takes the best.
   */
  private chooseForClass(task: TaskRequest): Machine | undefined {
    const key = this.classOf.of(task);
    let search = this.classes.get(key);
    if (search === undefined) {
      search = {
        candidates: [],
        cache: this.cacheOf(key),
        cursor: this.techniques.relaxedRandomization ? Math.floor(this.random() * this.order.length) : 0,
        examined: 0,
        exhaustedAt: undefined,
      };
      this.classes.set(key, search);
    }
    const jobVersion = this.cell.jobVersion(task.job);
    this.refresh(task, search, jobVersion);
    if (search.candidates.length < this.enough) {
      if (search.exhaustedAt !== undefined && search.exhaustedAt !== jobVersion && this.readsJobPlacement(task)) {
        // The job moved since the whole cell was examined: a domain refused for spread may take it now.
        search.exhaustedAt = undefined;
        search.examined = 0;
      }
      if (search.exhaustedAt === undefined && !this.examineMore(task, search, this.enough - search.candidates.length)) search.exhaustedAt = jobVersion;
    }
    const best = new BestMachine(this.jobScoreAtMost(task));
    for (const candidate of search.candidates) if (best.mayWin(candidate.score)) best.offer(candidate.machine, this.scoreOf(task, candidate));
    return best.machine;
  }

  /** Scores again the class's machines that changed since it scored them, and drops those that no longer fit. */
  private refresh(task: TaskRequest, search: ClassSearch, jobVersion: number): void {
    const candidates = search.candidates;
    let kept = 0;
    for (const candidate of candidates) {
      // The candidate is the class's cached score for its machine: rewritten in place when stale.
      const current = this.current(task, candidate, jobVersion) ? candidate : this.evaluate(task, undefined, candidate.machine, jobVersion, candidate);
      if (current.feasible) candidates[kept++] = current;
    }
    candidates.length = kept;
  }

  /** Examines machines from the class's cursor until `wanted` more feasible ones were found; false when the cell ran out. */
  private examineMore(task: TaskRequest, search: ClassSearch, wanted: number): boolean {
    const jobVersion = this.cell.jobVersion(task.job);
    let feasible = 0;
    let examined = 0;
    const total = this.order.length;
    while (search.examined < total && examined < this.examineLimit && feasible < wanted) {
      const machine = this.order[search.cursor]!;
      search.cursor = (search.cursor + 1) % total;
      search.examined += 1;
      examined += 1;
      const evaluation = this.evaluate(task, search.cache, machine, jobVersion);
      if (!evaluation.feasible) continue;
      feasible += 1;
      search.candidates.push(evaluation);
    }
    return search.examined < total;
  }

  private current(task: TaskRequest, candidate: Evaluation, jobVersion: number): boolean {
    return candidate.machine.version === candidate.version && (candidate.jobVersion === jobVersion || !this.readsJobPlacement(task));
  }

  private readsJobPlacement(task: TaskRequest): boolean {
    return declaredSpread(task.spread) !== undefined;
  }

  /** The score cache of a class (machine index → its answer), when the technique is on. */
  private cacheOf(key: string): Map<number, Evaluation> | undefined {
    if (!this.techniques.scoreCache) return undefined;
    let byMachine = this.cache.get(key);
    if (byMachine === undefined) {
      byMachine = new Map();
      this.cache.set(key, byMachine);
    }
    return byMachine;
  }

  /** Filters, then scorers, for one task on one machine; from the class's score cache when still current. */
  private evaluate(task: TaskRequest, cache: Map<number, Evaluation> | undefined, machine: Machine, jobVersion: number, stale?: Evaluation): Evaluation {
    const cached = cache?.get(machine.index);
    if (cached !== undefined && this.current(task, cached, jobVersion)) return cached;
    // Answers are rewritten in place: a cell's worth of answers must not mean a cell's worth of garbage.
    const target = cached ?? stale ?? { machine, feasible: false, reason: undefined, score: 0, version: 0, jobVersion: 0 };
    this.evaluateInto(target, task, machine, jobVersion);
    if (cached === undefined) cache?.set(machine.index, target);
    return target;
  }

  private evaluateInto(target: Evaluation, task: TaskRequest, machine: Machine, jobVersion: number): Evaluation {
    target.reason = firstRefusal(this.profile.filters, task, machine, this.cell);
    target.feasible = target.reason === undefined;
    target.score = target.feasible ? totalScore(this.profile.scorers, task, machine, this.cell) : 0;
    target.version = machine.version;
    target.jobVersion = jobVersion;
    return target;
  }

  /** How many machines each filter refused, over the whole cell (once per class per round). */
  private explain(task: TaskRequest): Record<string, number> {
    const key = this.classOf.of(task);
    const known = this.explanations.get(key);
    if (known !== undefined) return known;
    const refusals: Record<string, number> = {};
    for (const machine of this.cell.machines) {
      const refusal = firstRefusal(this.profile.filters, task, machine, this.cell);
      if (refusal !== undefined) refusals[refusal.text] = (refusals[refusal.text] ?? 0) + 1;
    }
    this.explanations.set(key, refusals);
    return refusals;
  }
}

/** The best of the machines offered: higher score first; equal scores by machine name, so results do not depend on examination order. */
class BestMachine {
  machine: Machine | undefined;
  private score = -Infinity;

  /** `jobScoreAtMost`: the most a job-bound scorer adds to a class score. */
  constructor(private readonly jobScoreAtMost: number) {}

  /**
   * Whether a machine whose class score is this could still be chosen, whatever the job's
   * own tasks make of it: most machines cannot, so the job-bound scorers are run for few.
   */
  mayWin(classScore: number): boolean {
    return this.machine === undefined || classScore + this.jobScoreAtMost >= this.score;
  }

  offer(machine: Machine, score: number): void {
    if (this.machine === undefined || score > this.score || (score === this.score && machine.name < this.machine.name)) {
      this.machine = machine;
      this.score = score;
    }
  }
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
