import {
  DEFAULT_FEDERATION_POLICY,
  DEFAULT_FEDERATION_WEIGHT,
  DEFAULT_MAX_DISRUPTION_SHARE,
  DEFAULT_SPILL_AFTER_MS,
  type FederationPolicyName,
} from "./job-runtime.js";
import type { JobSpec } from "./job-spec.js";

/** A federated job's settings, every one resolved: what the spec says, or its default. */
export interface FederationPolicy {
  /** The cells the job runs in; with policy `fill`, in order of preference. */
  cells: string[];
  policy: FederationPolicyName;
  /** One per cell, in the order of `cells`: the spec's under policy `spread`, otherwise all 1. */
  weights: number[];
  spillAfterMs: number;
  maxDisruption: number;
}

/**
 * How a validated spec is federated, or undefined when it runs in one cell (it has no
 * `runtime.cells`). Pure; the arrays are copies, so changing them does not change the spec.
 */
export function federationOf(spec: JobSpec): FederationPolicy | undefined {
  const { cells, policy = DEFAULT_FEDERATION_POLICY, weights, spillAfterMs = DEFAULT_SPILL_AFTER_MS, maxDisruption = Math.max(1, Math.ceil(spec.replicas * DEFAULT_MAX_DISRUPTION_SHARE)) } = spec.runtime;
  if (cells === undefined) return undefined;
  // Weights mean something only under spread; fill and pin take the cells in order.
  const resolved = policy === "spread" && weights !== undefined ? [...weights] : cells.map(() => DEFAULT_FEDERATION_WEIGHT);
  return { cells: [...cells], policy, weights: resolved, spillAfterMs, maxDisruption };
}
