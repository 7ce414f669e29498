import { federationOf, jobSpecSchema, type FederatedJobRecord, type FederationPolicyName, type JobSpec } from "@corral/contracts";
import { homePlacement } from "../../src/federation/placement.js";

/** Builders shared by the federation's unit tests: a federated spec and its record as submitted. */

export interface RuntimeInput {
  cells?: string[];
  cell?: string;
  policy?: FederationPolicyName;
  weights?: number[];
  spillAfterMs?: number;
  maxDisruption?: number;
}

export function specOf(runtime: RuntimeInput, replicas: number, extra: Record<string, unknown> = {}): JobSpec {
  return jobSpecSchema.parse({
    name: "web",
    user: "alice",
    runtime,
    binary: "/bin/sleep",
    args: ["600"],
    env: {},
    requirements: { cpu: 0.01, ram: 8 * 1024 * 1024, disk: 0, ports: 0 },
    replicas,
    priority: "production",
    restart: "always",
    gracePeriodMs: 1000,
    ...extra,
  });
}

/** A record as Federation.submit writes it. */
export function recordOf(spec: JobSpec, at = 0, generation = 0): FederatedJobRecord {
  const policy = federationOf(spec)!;
  const home = homePlacement(spec.replicas, policy);
  return {
    id: `${spec.name}.${spec.user!}`,
    name: spec.name,
    user: spec.user!,
    spec,
    generation,
    requestId: "req-1",
    submittedAt: at,
    killed: false,
    home,
    assigned: { ...home },
    refused: {},
    shortSince: {},
    submits: {},
    events: [{ at, text: "submitted" }],
  };
}

