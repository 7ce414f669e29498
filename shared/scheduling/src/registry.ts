import type { FilterFactory, FilterPlugin, ScorePlugin, ScorerFactory } from "./plugin.js";
import { avoidCrashes } from "./plugins/avoid-crashes/index.js";
import { bestFit } from "./plugins/best-fit/index.js";
import { constraints } from "./plugins/constraints/index.js";
import { ePvm } from "./plugins/e-pvm/index.js";
import { hybrid } from "./plugins/hybrid/index.js";
import { maxPerMachine } from "./plugins/max-per-machine/index.js";
import { ports } from "./plugins/ports/index.js";
import { preferences } from "./plugins/preferences/index.js";
import { resources } from "./plugins/resources/index.js";
import { spreadFilter, spreadScorer } from "./plugins/spread/index.js";

export const POLICIES = ["e-pvm", "best-fit", "hybrid"] as const;
export type Policy = (typeof POLICIES)[number];

const POLICY_SCORERS: Record<Policy, ScorerFactory> = { "e-pvm": ePvm, "best-fit": bestFit, hybrid };

/** Cheapest and most selective first: a machine is refused by the first filter that says no. */
export const FILTERS: readonly FilterFactory[] = [resources, ports, constraints, maxPerMachine, spreadFilter];

/** The pipeline of one cell: every filter, then the cell's packing policy plus the job's own preferences. */
export interface Profile {
  policy: Policy;
  filters: FilterPlugin[];
  scorers: ScorePlugin[];
}

export function profileFor(policy: Policy): Profile {
  return {
    policy,
    filters: FILTERS.map((factory) => factory.create()),
    scorers: [POLICY_SCORERS[policy].create(), preferences.create(), spreadScorer.create(), avoidCrashes.create()],
  };
}
