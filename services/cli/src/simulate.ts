import { CellSnapshot, pendingOrder, Placer, taskRequestFor, type MachineOffer, type Policy, type TaskRequest } from "@corral/scheduling";
import { PLACED_STATES } from "@corral/contracts";
import { decodeJobs } from "@corral/state";
import { table } from "./format.js";

export interface PolicyOutcome {
  policy: Policy;
  placed: number;
  unplaced: number;
  /** reasons of the unplaced tasks' first refusals over the cell, summed */
  refusals: Record<string, number>;
  /** machines running at least one task afterwards */
  machinesUsed: number;
  cpuUtilization: number;
  ramUtilization: number;
}

export interface Simulation {
  jobs: number;
  runningTasks: number;
  pendingTasks: number;
  machines: number;
  /** placed tasks whose machine is not in the simulated cell (counted as pending) */
  displaced: number;
  outcomes: PolicyOutcome[];
}

/**
 * Borg's Fauxmaster: the real placement pipeline run offline on a checkpoint's jobs and a
 * set of machines. Tasks placed in the checkpoint keep their machines (when the cell has
 * them); the pending ones are placed with each policy, and the outcomes compared.
 */
export function simulate(records: ReadonlyMap<string, Buffer>, machines: readonly MachineOffer[], policies: readonly Policy[]): Simulation {
  const jobs = decodeJobs(records);
  const byName = new Map(machines.map((machine) => [machine.name, { ...machine, free: { ...machine.free }, usedPorts: [...machine.usedPorts], jobTasks: { ...machine.jobTasks } }]));
  const pending: TaskRequest[] = [];
  let runningTasks = 0;
  let displaced = 0;
  for (const job of jobs) {
    // A job in an alloc set takes its room from its allocs, which are placed (and counted) as tasks of their own.
    if (job.killed || job.spec.allocSet !== undefined) continue;
    for (const task of job.tasks) {
      const { state, context } = task.lifecycle;
      if (state === "dead") continue;
      const machine = context.node === undefined ? undefined : byName.get(context.node);
      if (PLACED_STATES.has(state) && machine !== undefined) {
        runningTasks += 1;
        const need = job.spec.requirements;
        machine.free.cpu -= need.cpu;
        machine.free.ram -= need.ram;
        machine.free.disk -= need.disk;
        machine.usedPorts.push(...context.ports);
        machine.jobTasks[job.id] = (machine.jobTasks[job.id] ?? 0) + 1;
        continue;
      }
      if (PLACED_STATES.has(state)) displaced += 1;
      pending.push(taskRequestFor(job.id, job.user, job.spec, task.index, context.incarnation));
    }
  }
  const ordered = pendingOrder(pending);
  const offers = [...byName.values()];
  const outcomes = policies.map((policy): PolicyOutcome => {
    const cell = new CellSnapshot(offers);
    const round = new Placer(cell, { policy, explain: true }).placeAll(ordered);
    const refusals: Record<string, number> = {};
    for (const { refusals: counts } of round.unplaced) {
      const [top] = Object.entries(counts).sort((a, b) => b[1] - a[1]);
      if (top !== undefined) refusals[top[0]] = (refusals[top[0]] ?? 0) + 1;
    }
    let cpuUsed = 0;
    let cpuTotal = 0;
    let ramUsed = 0;
    let ramTotal = 0;
    let machinesUsed = 0;
    for (const machine of cell.machines) {
      cpuTotal += machine.capacity.cpu;
      ramTotal += machine.capacity.ram;
      cpuUsed += machine.capacity.cpu - machine.free.cpu;
      ramUsed += machine.capacity.ram - machine.free.ram;
      if ([...machine.jobTasks.values()].some((count) => count > 0) || machine.free.cpu < machine.capacity.cpu) machinesUsed += 1;
    }
    return {
      policy,
      placed: round.placements.length,
      unplaced: round.unplaced.length,
      refusals,
      machinesUsed,
      cpuUtilization: cpuTotal === 0 ? 0 : cpuUsed / cpuTotal,
      ramUtilization: ramTotal === 0 ? 0 : ramUsed / ramTotal,
    };
  });
  return { jobs: jobs.length, runningTasks, pendingTasks: pending.length, machines: machines.length, displaced, outcomes };
}

export function simulationText(simulation: Simulation): string {
  const head = `${simulation.jobs} job${simulation.jobs === 1 ? "" : "s"}: ${simulation.runningTasks} tasks kept on their machines, ${simulation.pendingTasks} to place on ${simulation.machines} machines` + (simulation.displaced > 0 ? ` (${simulation.displaced} of them were on machines not in this cell)` : "");
  const rows = table(["POLICY", "PLACED", "PENDING", "MACHINES USED", "CPU", "RAM", "WHY PENDING (TASKS)"]);
  for (const outcome of simulation.outcomes) {
    const why = Object.entries(outcome.refusals).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([reason, count]) => `${reason} (${count})`).join(", ");
    rows.push([outcome.policy, outcome.placed, outcome.unplaced, outcome.machinesUsed, `${Math.round(outcome.cpuUtilization * 100)}%`, `${Math.round(outcome.ramUtilization * 100)}%`, why]);
  }
  return `${head}\n${rows.toString()}`;
}
