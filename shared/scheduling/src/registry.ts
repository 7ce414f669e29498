import type { FilterFactory, FilterPlugin, ScorerFactory, WeightedScorer } from "./plugin.js";
import { avoidCrashes } from "./plugins/avoid-crashes/index.js";
import { bestFit } from "./plugins/best-fit/index.js";
import { constraints } from "./plugins/constraints/index.js";
import { ePvm } from "./plugins/e-pvm/index.js";
import { hybrid } from "./plugins/hybrid/index.js";
import { defaultSpread } from "./plugins/default-spread/index.js";
import { maxPerMachine } from "./plugins/max-per-machine/index.js";
import { runtime } from "./plugins/runtime/index.js";
import { ports } from "./plugins/ports/index.js";
import { preferences } from "./plugins/preferences/index.js";
import { resources } from "./plugins/resources/index.js";
import { spreadFilter, spreadScorer } from "./plugins/spread/index.js";

export const POLICIES = ["e-pvm", "best-fit", "hybrid"] as const;
export type Policy = (typeof POLICIES)[number];

const POLICY_SCORERS: Record<Policy, ScorerFactory> = { "e-pvm": ePvm, "best-fit": bestFit, hybrid };

/** Cheapest and most selective first: a machine is refused by the first filter that says no. */
export const FILTERS: readonly FilterFactory[] = [resources, ports, runtime, constraints, maxPerMachine, spreadFilter];

/**
 * How much each scorer's 0–100 counts (Kubernetes' score weights). The packing policy and a
 * job's preferences weigh the same, so neither swamps the other; a declared spread, and the
 * default spread over failure domains, weigh double, as Kubernetes weighs topology spread, so
 * that a job's second task goes to another machine even where best fit would stack it; a
 * machine the task keeps crashing on loses more than all the others can give, so it is
 * chosen only when nothing else fits.
 */
const SCORE_WEIGHTS = { policy: 1, preferences: 1, spread: 2, defaultSpread: 2, avoidCrashes: 10 } as const;

/** The pipeline of one cell: every filter, then the cell's packing policy plus the job's own preferences. */
export interface Profile {
  policy: Policy;
  filters: FilterPlugin[];
  /** scorers whose answer an equivalence class may keep */
  scorers: WeightedScorer[];
  /** scorers of the job's own tasks on a machine (ScorePlugin.jobBound), scored at each choice */
  jobScorers: WeightedScorer[];
}

export function profileFor(policy: Policy): Profile {
  const all: WeightedScorer[] = [
    { plugin: POLICY_SCORERS[policy].create(), weight: SCORE_WEIGHTS.policy },
    { plugin: preferences.create(), weight: SCORE_WEIGHTS.preferences },
    { plugin: spreadScorer.create(), weight: SCORE_WEIGHTS.spread },
    { plugin: defaultSpread.create(), weight: SCORE_WEIGHTS.defaultSpread },
    { plugin: avoidCrashes.create(), weight: SCORE_WEIGHTS.avoidCrashes },
  ];
  return {
    policy,
    filters: FILTERS.map((factory) => factory.create()),
    scorers: all.filter(({ plugin }) => plugin.jobBound !== true),
    jobScorers: all.filter(({ plugin }) => plugin.jobBound === true),
  };
}
