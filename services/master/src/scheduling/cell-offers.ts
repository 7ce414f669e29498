// The whole cell as one placement snapshot, for answers about a few jobs (why, plan, preemption)
// rather than the sampled machines a work fetch sends.
import { declaredSpread, SPREAD_DOMAINS, type JobSpec } from "@corral/contracts";
import { CellSnapshot, type MachineOffer, type RunningTask } from "@corral/scheduling";
import type { CellState } from "../state/cell-state.js";
import { jobDomainCounts } from "./live-fit-view.js";

/**
 * The whole cell as the placement pipeline sees it, from the leader's own state: every
 * machine that is up, what is free on it, where the job's tasks already are, and what
 * runs there (for preemption). For answers about one job: "why pending?" and plans.
 */
export function wholeCellFor(state: CellState, jobId: string, spec: JobSpec): { cell: CellSnapshot; running: (machine: { name: string }) => readonly RunningTask[] } {
  return wholeCellForJobs(state, new Map([[jobId, spec]]));
}

/** The same, for several jobs at once (one pass over the cell for a plan's preemptions). */
export function wholeCellForJobs(state: CellState, jobs: ReadonlyMap<string, JobSpec>): { cell: CellSnapshot; running: (machine: { name: string }) => readonly RunningTask[] } {
  const offers: MachineOffer[] = [];
  const running = new Map<string, RunningTask[]>();
  for (const node of state.nodes.values()) {
    // A machine a new leader knows only from its tasks has no known shape yet.
    if (node.state !== "up" || node.awaitingFirstHeartbeat === true) continue;
    const usage = state.usage(node.name);
    const onNode: RunningTask[] = [];
    const jobTasks: Record<string, number> = {};
    for (const ref of state.tasksOn(node.name)) {
      if (jobs.has(ref.job.id)) jobTasks[ref.job.id] = (jobTasks[ref.job.id] ?? 0) + 1;
      // A task in an alloc frees nothing of the machine when stopped (its alloc keeps the room): never a victim.
      if (ref.task.lifecycle.context.alloc === undefined) onNode.push({ taskId: ref.id, band: ref.job.spec.priority, requirements: ref.job.spec.requirements });
    }
    running.set(node.name, onNode);
    offers.push({
      name: node.name,
      capacity: node.capacity,
      free: { cpu: node.capacity.cpu - usage.cpu, ram: node.capacity.ram - usage.ram, disk: node.capacity.disk - usage.disk },
      attributes: node.attributes,
      portRange: node.portRange,
      usedPorts: [...usage.ports],
      jobTasks,
    });
  }
  const jobDomains: Record<string, Partial<Record<(typeof SPREAD_DOMAINS)[number], Record<string, number>>>> = {};
  for (const [jobId, spec] of jobs) {
    if (declaredSpread(spec.spread) !== undefined) jobDomains[jobId] = Object.fromEntries(SPREAD_DOMAINS.map((kind) => [kind, Object.fromEntries(jobDomainCounts(state, jobId, kind))]));
  }
  return { cell: new CellSnapshot(offers, jobDomains), running: (machine) => running.get(machine.name) ?? [] };
}
