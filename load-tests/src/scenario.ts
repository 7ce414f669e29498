import type { z } from "zod";
import type { ChartSpec } from "./harness/result.js";

export interface ScenarioOutcome {
  config: Record<string, unknown>;
  metrics: Record<string, unknown>;
  /**
   * The metrics the report leads with, as flattened keys ("failover_ms.p99"), in order.
   * Optional: without it the report leads with the first few numeric metrics, so a
   * scenario that puts its main result first needs nothing here.
   */
  headline?: string[];
  samples: Record<string, unknown>;
  charts: ChartSpec[];
}

/** A benchmark: its options come from `--name value` flags and are validated before it runs. */
export interface Scenario<S extends z.ZodObject = z.ZodObject> {
  name: string;
  description: string;
  options: S;
  run(options: z.infer<S>): Promise<ScenarioOutcome>;
}

export function defineScenario<S extends z.ZodObject>(scenario: Scenario<S>): Scenario<S> {
  return scenario;
}
