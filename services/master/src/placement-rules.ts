import type { JobSpec } from "@corral/contracts";
import { constraintMatches, describeConstraint, failureDomainsOf, type FailureDomain } from "@corral/scheduling";
import type { CellState, NodeRecord } from "./cell-state.js";

/**
 * The leader's own check of a job's placement rules (hard constraints, tasks per machine,
 * spread) for plans it applies: schedulers decide on samples and copies, the leader on the
 * whole cell. Domain counts are worked out once per plan and kept up to date as it commits.
 */
export class PlacementRules {
  private readonly domains = new Map<string, Set<string>>();
  private readonly jobCounts = new Map<string, Map<string, number>>();

  constructor(private readonly state: CellState) {}

  /** Why the job's next task may not go on the node, or undefined. */
  refusal(jobId: string, spec: JobSpec, node: NodeRecord): string | undefined {
    for (const constraint of spec.constraints) {
      if (!constraintMatches(constraint, node.attributes)) return `constraint ${describeConstraint(constraint)} not met on ${node.name}`;
    }
    if (spec.maxPerMachine !== undefined && this.tasksOnNode(jobId, node.name) >= spec.maxPerMachine) {
      return `${node.name} already runs ${spec.maxPerMachine} of the job's tasks (max_per_machine)`;
    }
    if (spec.spread !== undefined) {
      const { across, maxSkew } = spec.spread;
      const counts = this.counts(jobId, across);
      const here = counts.get(failureDomainsOf(node.name, node.attributes)[across]) ?? 0;
      let fewest = Infinity;
      for (const domain of this.domainsOf(jobId, spec, across)) fewest = Math.min(fewest, counts.get(domain) ?? 0);
      if (here + 1 - fewest > maxSkew) return `spread across ${across}s: the ${across} of ${node.name} would be more than ${maxSkew} ahead`;
    }
    return undefined;
  }

  /** Counts a committed placement, for the plan's next ones. */
  placed(jobId: string, spec: JobSpec, node: NodeRecord): void {
    if (spec.spread === undefined) return;
    const domain = failureDomainsOf(node.name, node.attributes)[spec.spread.across];
    const counts = this.counts(jobId, spec.spread.across);
    counts.set(domain, (counts.get(domain) ?? 0) + 1);
  }

  private tasksOnNode(jobId: string, node: string): number {
    let count = 0;
    for (const ref of this.state.tasksOn(node)) if (ref.job.id === jobId) count += 1;
    return count;
  }

  private counts(jobId: string, kind: FailureDomain): Map<string, number> {
    const key = `${jobId}/${kind}`;
    let counts = this.jobCounts.get(key);
    if (counts === undefined) {
      counts = jobDomainCounts(this.state, jobId, kind);
      this.jobCounts.set(key, counts);
    }
    return counts;
  }

  /** The domains the job may use: those with a machine up that meets its hard constraints. */
  private domainsOf(jobId: string, spec: JobSpec, kind: FailureDomain): Set<string> {
    const key = `${jobId}/${kind}`;
    let domains = this.domains.get(key);
    if (domains === undefined) {
      domains = new Set();
      for (const node of this.state.nodes.values()) {
        if (node.state !== "up" || !spec.constraints.every((constraint) => constraintMatches(constraint, node.attributes))) continue;
        domains.add(failureDomainsOf(node.name, node.attributes)[kind]);
      }
      this.domains.set(key, domains);
    }
    return domains;
  }
}

/** Tasks of the job placed in each domain of this kind. */
export function jobDomainCounts(state: CellState, jobId: string, kind: FailureDomain): Map<string, number> {
  const counts = new Map<string, number>();
  const job = state.jobs.get(jobId);
  for (const task of job?.tasks ?? []) {
    const nodeName = task.lifecycle.context.node;
    const node = nodeName === undefined ? undefined : state.nodes.get(nodeName);
    if (node === undefined || !isPlaced(task.lifecycle.state)) continue;
    const domain = failureDomainsOf(node.name, node.attributes)[kind];
    counts.set(domain, (counts.get(domain) ?? 0) + 1);
  }
  return counts;
}

function isPlaced(state: string): boolean {
  return state === "assigned" || state === "running" || state === "terminating";
}
