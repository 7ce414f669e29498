import { flatten } from "./flatten.js";

/** How many metrics lead a report when its scenario names none. */
export const DEFAULT_HEADLINE_SIZE = 6;

/**
 * The metrics a report leads with, as [flattened key, value]: the scenario's `headline`
 * when it gives one, else its first few numeric metrics in the order it reports them
 * (scenarios put what they measure first). A named metric the run lacks keeps its place
 * with an undefined value, so a renamed metric shows up as missing instead of vanishing.
 */
export function headlineMetrics(result: { metrics: Record<string, unknown>; headline?: readonly string[] }): [string, unknown][] {
  const all = flatten(result.metrics);
  if (result.headline !== undefined) {
    const byKey = new Map(all);
    return result.headline.map((key) => [key, byKey.get(key)]);
  }
  return all.filter(([, value]) => typeof value === "number").slice(0, DEFAULT_HEADLINE_SIZE);
}
