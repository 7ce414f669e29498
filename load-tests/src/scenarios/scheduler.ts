import { z } from "zod";
import { seededRandom } from "@corral/kit";
import { ALL_TECHNIQUES, bucketed, CellSnapshot, Placer, POLICIES, syntheticMachines, syntheticTasks, type MachineOffer, type Policy, type TaskRequest, type Techniques } from "@corral/scheduling";
import { defineScenario } from "../scenario.js";
import { barChart } from "../harness/charts.js";
import type { BarChartSpec } from "../harness/result.js";
import { median } from "../harness/stats.js";

const TECHNIQUES_OFF = ["equivalence_classes", "score_cache", "relaxed_randomization", "bounded_search"] as const;
const TECHNIQUE_FLAG: Record<(typeof TECHNIQUES_OFF)[number], keyof Techniques> = {
  equivalence_classes: "equivalenceClasses",
  score_cache: "scoreCache",
  relaxed_randomization: "relaxedRandomization",
  bounded_search: "boundedSearch",
};

/** Places the tasks on a fresh snapshot; stops early when the time budget runs out. */
function placementRate(machines: readonly MachineOffer[], tasks: readonly TaskRequest[], techniques: Techniques, seed: number, budgetMs: number) {
  const cell = new CellSnapshot(machines);
  const placer = new Placer(cell, { policy: "hybrid", techniques, random: seededRandom(seed) });
  const started = performance.now();
  let placed = 0;
  let examined = 0;
  for (const task of tasks) {
    if (placer.place(task) !== undefined) placed += 1;
    examined += 1;
    if ((examined & 255) === 0 && performance.now() - started > budgetMs) break;
  }
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: examined / seconds, placed, examined, seconds };
}

/** Whether every task fits on the first `count` machines (placing in the pending queue's order, all techniques on). */
function fits(machines: readonly MachineOffer[], count: number, tasks: readonly TaskRequest[], policy: Policy, seed: number): boolean {
  const placer = new Placer(new CellSnapshot(machines.slice(0, count)), { policy, random: seededRandom(seed) });
  return placer.placeAll(tasks, { stopAtFirstUnplaced: true }).unplaced.length === 0;
}

/** Fewer machines than this cannot hold the workload's cpu or ram at all: where the search starts. */
function demandBound(machines: readonly MachineOffer[], tasks: readonly TaskRequest[]): number {
  let cpu = 0;
  let ram = 0;
  for (const task of tasks) {
    cpu += task.requirements.cpu;
    ram += task.requirements.ram;
  }
  let count = 0;
  while (count < machines.length && (cpu > 0 || ram > 0)) {
    cpu -= machines[count]!.capacity.cpu;
    ram -= machines[count]!.capacity.ram;
    count += 1;
  }
  return count;
}

/** The binary search stops within this share of the answer: finer than the differences it is meant to show. */
const COMPACTION_RESOLUTION = 0.002;

/**
 * Borg's cell compaction (§5.1): the fewest machines the workload fits on, by binary search
 * over cell size (to within 0.2%), starting from what the demand alone needs.
 */
function compact(machines: readonly MachineOffer[], tasks: readonly TaskRequest[], policy: Policy, seed: number): number {
  if (tasks.length === 0) return 0;
  if (!fits(machines, machines.length, tasks, policy, seed)) throw new Error(`the workload does not fit on all ${machines.length} machines with ${policy}; use fewer --tasks or more --machines`);
  const bound = demandBound(machines, tasks);
  let low = bound - 1; // does not fit
  let high = machines.length; // fits
  const resolution = Math.max(1, Math.floor(bound * COMPACTION_RESOLUTION));
  while (high - low > resolution) {
    const middle = Math.floor((low + high) / 2);
    if (fits(machines, middle, tasks, policy, seed)) high = middle;
    else low = middle;
  }
  return high;
}

/** Each part is compacted on its own, from the same machines as the shared cell (Borg §5.1's sub-cells). */
function compactParts(parts: readonly TaskRequest[][], machines: readonly MachineOffer[], seed: number): number {
  return parts.reduce((sum, part) => sum + compact(machines, part, "hybrid", seed), 0);
}

/** Placements/s per configuration: categories, not points on a scale, so bars. */
function ratesChart(allOn: number, without: Record<string, number>): BarChartSpec {
  return barChart({
    title: "Placements per second (hybrid policy), every technique on and each one off",
    xLabel: "configuration",
    unit: "placements/s",
    categories: ["all on", ...TECHNIQUES_OFF.map((off) => `without ${off.replace(/_/g, " ")}`)],
    values: [Math.round(allOn), ...TECHNIQUES_OFF.map((off) => without[off]!)],
  });
}

/** One bar per seed within each category, so the spread between seeds shows beside the median. */
function perSeed(seeds: readonly number[], runs: (category: string) => readonly number[], categories: readonly string[]): Record<string, number[]> {
  return Object.fromEntries(seeds.map((seed, i) => [`seed ${seed}`, categories.map((category) => runs(category)[i]!)]));
}

export const scheduler = defineScenario({
  name: "scheduler",
  description: "the scheduler alone, in one process: placements/s per scale technique, cell compaction per policy, Borg's utilization experiments",
  options: z.object({
    machines: z.coerce.number().int().min(10).default(10_000),
    tasks: z.coerce.number().int().min(1).default(100_000),
    seeds: z.coerce.number().int().min(1).max(10).default(3),
    budgetS: z.coerce.number().min(1).default(30),
    /** "rates" measures placements/s only (a minute or two); "all" also compacts cells (about 25 minutes) */
    parts: z.enum(["all", "rates"]).default("all"),
    seed: z.coerce.number().int().default(1),
  }),
  async run(options) {
    const log = (line: string) => process.stderr.write(`  ${line}\n`);
    const machines = syntheticMachines(options.machines, options.seed);
    const tasks = syntheticTasks(options.tasks, options.seed);
    const budgetMs = options.budgetS * 1000;

    // Warm the JIT on every configuration first, so the first one measured is not the cold one.
    const warmUp = tasks.slice(0, Math.min(tasks.length, 20_000));
    for (const off of [undefined, ...TECHNIQUES_OFF]) placementRate(machines, warmUp, off === undefined ? ALL_TECHNIQUES : { ...ALL_TECHNIQUES, [TECHNIQUE_FLAG[off]]: false }, options.seed, 2000);
    const all = placementRate(machines, tasks, ALL_TECHNIQUES, options.seed, budgetMs);
    log(`every technique on: ${Math.round(all.perSecond)} placements/s (${all.placed} of ${all.examined} placed in ${all.seconds.toFixed(2)} s)`);
    const without: Record<string, number> = {};
    for (const off of TECHNIQUES_OFF) {
      const rate = placementRate(machines, tasks, { ...ALL_TECHNIQUES, [TECHNIQUE_FLAG[off]]: false }, options.seed, budgetMs);
      without[off] = Math.round(rate.perSecond);
      log(`without ${off}: ${without[off]} placements/s (${rate.examined} tasks in ${rate.seconds.toFixed(2)} s)`);
    }

    if (options.parts === "rates") {
      return {
        config: { ...options, policyForRates: "hybrid" },
        metrics: { placements_per_s: Math.round(all.perSecond), placements_per_s_without: without },
        samples: { allTechniques: all },
        charts: [ratesChart(all.perSecond, without)],
      };
    }
    const seeds = Array.from({ length: options.seeds }, (_, i) => options.seed + i);
    const compactionRuns: Record<Policy, number[]> = { "e-pvm": [], "best-fit": [], hybrid: [] };
    for (const seed of seeds) {
      const cellMachines = syntheticMachines(options.machines, seed);
      const workload = syntheticTasks(options.tasks, seed);
      for (const policy of POLICIES) {
        const needed = compact(cellMachines, workload, policy, seed);
        compactionRuns[policy].push(needed);
        log(`compaction, seed ${seed}, ${policy}: ${needed} machines`);
      }
    }
    const compaction = Object.fromEntries(POLICIES.map((policy) => [policy.replace("-", "_"), median(compactionRuns[policy])]));

    // Utilization experiments: machines needed relative to the shared, undivided, fine-grained cell (hybrid).
    // The pool is twice the cell (the same machines first), since coarser requests may need more than the cell has.
    const experiments: Record<string, number[]> = { segregated: [], split_2: [], split_5: [], split_10: [], bucketed: [] };
    for (const seed of seeds) {
      const cellMachines = syntheticMachines(2 * options.machines, seed);
      const workload = syntheticTasks(options.tasks, seed);
      const shared = compact(cellMachines, workload, "hybrid", seed);
      const isProd = (task: TaskRequest) => task.band === "monitoring" || task.band === "production";
      experiments["segregated"]!.push(compactParts([workload.filter(isProd), workload.filter((task) => !isProd(task))], cellMachines, seed) / shared);
      for (const parts of [2, 5, 10]) {
        const random = seededRandom(seed * 31 + parts);
        const userPart = new Map<string, number>();
        const split: TaskRequest[][] = Array.from({ length: parts }, () => []);
        for (const task of workload) {
          if (!userPart.has(task.user)) userPart.set(task.user, Math.floor(random() * parts));
          split[userPart.get(task.user)!]!.push(task);
        }
        experiments[`split_${parts}`]!.push(compactParts(split, cellMachines, seed) / shared);
      }
      experiments["bucketed"]!.push(compact(cellMachines, workload.map(bucketed), "hybrid", seed) / shared);
      log(`utilization, seed ${seed}: ${Object.entries(experiments).map(([name, runs]) => `${name} ${runs[runs.length - 1]!.toFixed(3)}`).join(", ")}`);
    }
    const utilization = Object.fromEntries(Object.entries(experiments).map(([name, runs]) => [name, Math.round(median(runs) * 1000) / 1000]));

    return {
      config: { ...options, policyForRates: "hybrid", seedsUsed: seeds },
      metrics: {
        placements_per_s: Math.round(all.perSecond),
        placements_per_s_without: without,
        compaction,
        utilization,
      },
      samples: { compactionRuns, experiments, allTechniques: all },
      charts: [
        ratesChart(all.perSecond, without),
        barChart({
          title: "Cell compaction: machines needed per policy, per seed",
          xLabel: "scoring policy",
          unit: "machines",
          categories: POLICIES,
          values: perSeed(seeds, (policy) => compactionRuns[policy as Policy], POLICIES),
        }),
        barChart({
          title: "Machines needed relative to one shared cell (hybrid), per seed (1 = as many as the shared cell)",
          xLabel: "experiment",
          unit: "ratio to the shared cell",
          categories: Object.keys(experiments),
          values: perSeed(seeds, (name) => experiments[name]!.map((ratio) => Math.round(ratio * 1000) / 1000), Object.keys(experiments)),
        }),
      ],
    };
  },
});
