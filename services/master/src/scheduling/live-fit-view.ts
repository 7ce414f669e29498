// The live state as the scheduling plugins see a cell, so that plan apply decides fit with the
// scheduler's own filters.
import { PLACED_STATES, SPREAD_DOMAINS, type Constraint, type SpreadDomain } from "@corral/contracts";
import { constraintMatches, failureDomainsOf, takeResources, type FitCell, type Machine, type TaskRequest } from "@corral/scheduling";
import type { CellState } from "../state/cell-state.js";
import type { Reclamation } from "./reclamation.js";

/**
 * The leader's live cell state as the scheduling plugins see a cell, for one plan apply:
 * the machines a plan touches, each built once from the state and kept current as the
 * plan's placements are committed, and where each job's tasks are over the whole cell.
 * The leader decides fit with the very filters the scheduler ran on its copy.
 */
export class LiveFitView implements FitCell {
  private readonly machines = new Map<string, Machine>();
  private readonly domainCounts = new Map<string, Map<string, number>>();
  private readonly eligibleDomains = new Map<string, Set<string>>();
  /** each machine's tasks per job, once asked for (taken from the state then) */
  private readonly jobCounts = new Map<string, Map<string, number>>();

  constructor(
    private readonly state: CellState,
    private readonly reclamation: Pick<Reclamation, "reclaimableOn">,
  ) {}

  /** The machine as it is now, or undefined when it is not up. */
  machine(name: string): Machine | undefined {
    const known = this.machines.get(name);
    if (known !== undefined) return known;
    const node = this.state.nodes.get(name);
    if (node === undefined || node.state !== "up") return undefined;
    const usage = this.state.usage(name);
    const [low, high] = node.portRange;
    const usedPorts = new Set(usage.ports);
    let inRange = 0;
    for (const port of usedPorts) if (port >= low && port <= high) inRange += 1;
    const { state, reclamation } = this;
    let reclaimable: { cpu: number; ram: number } | undefined;
    const jobTasksHere = () => this.jobTasksOn(name);
    const machine: Machine = {
      index: this.machines.size,
      name,
      capacity: node.capacity,
      free: { cpu: node.capacity.cpu - usage.cpu, ram: node.capacity.ram - usage.ram, disk: node.capacity.disk - usage.disk },
      // Looked at only for work that may use reclaimed room: it costs a look at each task there.
      get reclaimable() {
        return (reclaimable ??= reclamation.reclaimableOn(state, name));
      },
      attributes: node.attributes,
      domains: failureDomainsOf(name, node.attributes),
      portRange: node.portRange,
      usedPorts,
      freePorts: high - low + 1 - inRange,
      // Counted from the state on first use (max per machine asks): once every job spread by
      // default, a plan touched a machine per task, and counting every task on each was a
      // twentieth of the leader's time.
      get jobTasks() {
        return jobTasksHere();
      },
      version: 0,
    };
    this.machines.set(name, machine);
    return machine;
  }

  /** The machine's tasks per job: taken from the state (with every placement this view reserved so far) when first asked for. */
  private jobTasksOn(name: string): Map<string, number> {
    let counts = this.jobCounts.get(name);
    if (counts === undefined) {
      counts = new Map();
      for (const ref of this.state.tasksOn(name)) counts.set(ref.job.id, (counts.get(ref.job.id) ?? 0) + 1);
      this.jobCounts.set(name, counts);
    }
    return counts;
  }

  /**
   * Counts a committed placement, so the plan's next placements see it. The placement is in
   * the state already (SCHEDULE comes first), so job counts not yet taken from the state will
   * include it when they are; counts taken before are moved on here.
   */
  reserve(task: TaskRequest, machine: Machine, ports: readonly number[]): void {
    takeResources(task, machine, ports);
    const jobTasks = this.jobCounts.get(machine.name);
    if (jobTasks !== undefined) jobTasks.set(task.job, (jobTasks.get(task.job) ?? 0) + 1);
    for (const kind of SPREAD_DOMAINS) {
      const counts = this.domainCounts.get(`${task.job}/${kind}`);
      const domain = machine.domains[kind];
      if (counts !== undefined) counts.set(domain, (counts.get(domain) ?? 0) + 1);
    }
  }

  jobTasksIn(job: string, kind: SpreadDomain, domain: string): number {
    return this.countsOf(job, kind).get(domain) ?? 0;
  }

  fewestJobTasks(job: string, kind: SpreadDomain, constraints: readonly Constraint[]): number {
    const counts = this.countsOf(job, kind);
    let fewest = Infinity;
    for (const domain of this.domainsFor(job, kind, constraints)) fewest = Math.min(fewest, counts.get(domain) ?? 0);
    return fewest === Infinity ? 0 : fewest;
  }

  private countsOf(job: string, kind: SpreadDomain): Map<string, number> {
    const key = `${job}/${kind}`;
    let counts = this.domainCounts.get(key);
    if (counts === undefined) {
      counts = jobDomainCounts(this.state, job, kind);
      this.domainCounts.set(key, counts);
    }
    return counts;
  }

  /** The domains the job may use: those with a machine up that meets its hard constraints. */
  private domainsFor(job: string, kind: SpreadDomain, constraints: readonly Constraint[]): Set<string> {
    const key = `${job}/${kind}`;
    let domains = this.eligibleDomains.get(key);
    if (domains === undefined) {
      domains = new Set();
      for (const node of this.state.nodes.values()) {
        if (node.state !== "up" || !constraints.every((constraint) => constraintMatches(constraint, node.attributes))) continue;
        domains.add(failureDomainsOf(node.name, node.attributes)[kind]);
      }
      this.eligibleDomains.set(key, domains);
    }
    return domains;
  }
}

/** Tasks of the job placed in each domain of this kind. */
export function jobDomainCounts(state: CellState, jobId: string, kind: SpreadDomain): Map<string, number> {
  const counts = new Map<string, number>();
  const job = state.jobs.get(jobId);
  for (const task of job?.tasks ?? []) {
    const nodeName = task.lifecycle.context.node;
    const node = nodeName === undefined ? undefined : state.nodes.get(nodeName);
    if (node === undefined || !PLACED_STATES.has(task.lifecycle.state)) continue;
    const domain = failureDomainsOf(node.name, node.attributes)[kind];
    counts.set(domain, (counts.get(domain) ?? 0) + 1);
  }
  return counts;
}
