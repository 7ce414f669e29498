import { constraintMatches } from "./constraint-match.js";
import type { FitCell } from "./plugin.js";
import { type MachineOffer, type TaskRequest } from "./model.js";
import { SPREAD_DOMAINS, type Constraint, type SpreadDomain, type Resources } from "@corral/contracts";

/** A machine during one scheduling cycle; `version` changes whenever anything on it does. */
export interface Machine {
  readonly index: number;
  readonly name: string;
  readonly capacity: Readonly<Resources>;
  readonly free: Resources;
  /** reserved but unused by what runs there: usable by non-production tasks on top of `free` */
  readonly reclaimable: Readonly<{ cpu: number; ram: number }>;
  readonly attributes: Readonly<Record<string, string>>;
  /** the machine's failure domains: itself, its rack and its power domain */
  readonly domains: Readonly<Record<SpreadDomain, string>>;
  readonly portRange: readonly [number, number];
  readonly usedPorts: Set<number>;
  freePorts: number;
  readonly jobTasks: Map<string, number>;
  version: number;
}

const NOTHING_RECLAIMABLE = Object.freeze({ cpu: 0, ram: 0 });

/** Takes a placed task's resources and ports on the machine, and counts it among its job's tasks there. */
export function takeOnMachine(task: TaskRequest, machine: Machine, ports: readonly number[]): void {
  takeResources(task, machine, ports);
  machine.jobTasks.set(task.job, (machine.jobTasks.get(task.job) ?? 0) + 1);
}

/** What a placed task takes of the machine, without counting it among its job's tasks there. */
export function takeResources(task: TaskRequest, machine: Machine, ports: readonly number[]): void {
  const need = task.requirements;
  machine.free.cpu -= need.cpu;
  machine.free.ram -= need.ram;
  machine.free.disk -= need.disk;
  for (const port of ports) machine.usedPorts.add(port);
  machine.freePorts -= ports.length;
  machine.version += 1;
}

/** Rack and power domain come from the borglet's attributes; a machine without them is its own domain. */
export function failureDomainsOf(name: string, attributes: Readonly<Record<string, string>>): Record<SpreadDomain, string> {
  const rack = attributes["rack"] ?? name;
  return { machine: name, rack, power: attributes["power"] ?? rack };
}

/** Where a job's tasks already are, per kind of failure domain (domain → tasks). */
export type JobDomainTasks = Partial<Record<SpreadDomain, Readonly<Record<string, number>>>>;

/**
 * The per-cycle snapshot (Kubernetes' scheduling cycle): every machine, the failure
 * domains, and where each job's tasks are, updated as tasks are placed so a cycle never
 * places against stale numbers.
 */
export class CellSnapshot implements FitCell {
  readonly machines: Machine[];
  readonly byName = new Map<string, Machine>();
  /** every domain of each kind, and how many machines it has */
  readonly domainSizes: Record<SpreadDomain, Map<string, number>> = { machine: new Map(), rack: new Map(), power: new Map() };
  private readonly jobDomainTasks = new Map<string, Record<SpreadDomain, Map<string, number>>>();
  private readonly jobVersions = new Map<string, number>();

  private readonly eligible = new Map<string, Set<string>>();
  private readonly fewestCache = new Map<string, { version: number; fewest: Partial<Record<SpreadDomain, number>> }>();

  /**
   * `jobDomains`: where spreading jobs' tasks are over the whole cell, when the offers are
   * only a sample of it; without it, the offers' own tasks are counted.
   */
  constructor(offers: readonly MachineOffer[], jobDomains?: Readonly<Record<string, JobDomainTasks>>) {
    this.machines = offers.map((offer, index) => {
      const [low, high] = offer.portRange;
      const usedPorts = new Set(offer.usedPorts.filter((port) => port >= low && port <= high));
      const machine: Machine = {
        index,
        name: offer.name,
        capacity: offer.capacity,
        free: { ...offer.free },
        reclaimable: offer.reclaimable ?? NOTHING_RECLAIMABLE,
        attributes: offer.attributes,
        domains: failureDomainsOf(offer.name, offer.attributes),
        portRange: offer.portRange,
        usedPorts,
        freePorts: high - low + 1 - usedPorts.size,
        jobTasks: new Map(Object.entries(offer.jobTasks ?? {})),
        version: 0,
      };
      this.byName.set(machine.name, machine);
      for (const kind of SPREAD_DOMAINS) {
        const domain = machine.domains[kind];
        this.domainSizes[kind].set(domain, (this.domainSizes[kind].get(domain) ?? 0) + 1);
      }
      for (const [job, count] of machine.jobTasks) if (jobDomains?.[job] === undefined) this.countJobTasks(job, machine, count);
      return machine;
    });
    for (const [job, byKind] of Object.entries(jobDomains ?? {})) {
      const counts = this.domainCountsOf(job);
      for (const kind of SPREAD_DOMAINS) for (const [domain, count] of Object.entries(byKind[kind] ?? {})) counts[kind].set(domain, count);
    }
  }

  /** Tasks of the job in the domain of this kind. */
  jobTasksIn(job: string, kind: SpreadDomain, domain: string): number {
    return this.jobDomainTasks.get(job)?.[kind].get(domain) ?? 0;
  }

  /**
   * The fewest tasks of the job in any domain of this kind that it may use (0 while some
   * has none). Domains whose machines all fail the job's hard constraints do not count, or
   * they would hold every other domain to maxSkew tasks (Kubernetes' topology spread does
   * the same with node affinity).
   */
  fewestJobTasks(job: string, kind: SpreadDomain, constraints: readonly Constraint[] = []): number {
    const counts = this.jobDomainTasks.get(job)?.[kind];
    if (counts === undefined) return 0;
    const version = this.jobVersion(job);
    let cached = this.fewestCache.get(job);
    if (cached === undefined || cached.version !== version) {
      cached = { version, fewest: {} };
      this.fewestCache.set(job, cached);
    }
    let fewest = cached.fewest[kind];
    if (fewest === undefined) {
      fewest = Infinity;
      for (const domain of this.eligibleDomains(job, kind, constraints)) fewest = Math.min(fewest, counts.get(domain) ?? 0);
      cached.fewest[kind] = fewest;
    }
    return fewest;
  }

  private eligibleDomains(job: string, kind: SpreadDomain, constraints: readonly Constraint[]): Iterable<string> {
    if (constraints.length === 0) return this.domainSizes[kind].keys();
    const key = `${job}/${kind}`;
    let domains = this.eligible.get(key);
    if (domains === undefined) {
      domains = new Set();
      for (const machine of this.machines) if (constraints.every((constraint) => constraintMatches(constraint, machine.attributes))) domains.add(machine.domains[kind]);
      this.eligible.set(key, domains);
    }
    return domains;
  }

  /** Changes whenever a task of the job is placed anywhere: answers about spread depend on it. */
  jobVersion(job: string): number {
    return this.jobVersions.get(job) ?? 0;
  }

  /** Takes the task's resources and ports on the machine. */
  reserve(task: TaskRequest, machine: Machine, ports: readonly number[]): void {
    takeOnMachine(task, machine, ports);
    this.countJobTasks(task.job, machine, 1);
  }

  /** The lowest free ports of the machine's range. */
  choosePorts(machine: Machine, count: number): number[] {
    const chosen: number[] = [];
    const [low, high] = machine.portRange;
    for (let port = low; port <= high && chosen.length < count; port++) if (!machine.usedPorts.has(port)) chosen.push(port);
    return chosen;
  }

  private domainCountsOf(job: string): Record<SpreadDomain, Map<string, number>> {
    let byKind = this.jobDomainTasks.get(job);
    if (byKind === undefined) {
      byKind = { machine: new Map(), rack: new Map(), power: new Map() };
      this.jobDomainTasks.set(job, byKind);
    }
    return byKind;
  }

  private countJobTasks(job: string, machine: Machine, count: number): void {
    const byKind = this.domainCountsOf(job);
    for (const kind of SPREAD_DOMAINS) {
      const domain = machine.domains[kind];
      byKind[kind].set(domain, (byKind[kind].get(domain) ?? 0) + count);
    }
    this.jobVersions.set(job, (this.jobVersions.get(job) ?? 0) + 1);
  }
}
