import { type TaskRequest } from "./model.js";
import { PRIORITY_BANDS, type PriorityBand, type Resources } from "@corral/contracts";
import type { CellSnapshot, Machine } from "./cell-snapshot.js";
import { FIT_RESOURCES, fitsIn, shortOf } from "./fit.js";
import { firstRefusal, type FilterPlugin } from "./plugin.js";

/** A task already on a machine, as preemption would see it. */
export interface RunningTask {
  taskId: string;
  band: PriorityBand;
  requirements: Resources & { ports: number };
}

export interface PendingExplanation {
  machines: number;
  /** machines refused, by reason, most first */
  refusals: { reason: string; machines: number }[];
  /** machines that would take a task now */
  fitting: number;
  advice: string[];
}

const RESOURCES = ["cpu", "ram", "disk"] as const;

/** Borg's rule: production-range work never preempts production-range work; otherwise only lower bands are victims. */
export function mayPreempt(preemptor: PriorityBand, victim: PriorityBand): boolean {
  const rank = (band: PriorityBand) => PRIORITY_BANDS.indexOf(band);
  const production = (band: PriorityBand) => band === "monitoring" || band === "production";
  if (production(preemptor) && production(victim)) return false;
  return rank(victim) > rank(preemptor);
}

/**
 * "Why pending?" as a first-class answer (Borg §3): every machine of the cell through the
 * filters, counted by the reason it refuses, and concrete advice: the smaller request
 * that would fit enough machines, or the preemptions that would make room.
 */
export function explainPending(
  cell: CellSnapshot,
  filters: readonly FilterPlugin[],
  task: TaskRequest,
  pending: number,
  runningOn: (machine: Machine) => readonly RunningTask[] = () => [],
): PendingExplanation {
  const counts = new Map<string, number>();
  const resourceFilter = filters.find((filter) => filter.name === "resources");
  const otherFilters = filters.filter((filter) => filter.name !== "resources");
  /** for each resource: what machines refused only for it have free, so a smaller request fits them */
  const shortOnlyOf: Record<(typeof RESOURCES)[number], number[]> = { cpu: [], ram: [], disk: [] };
  let fitting = 0;
  for (const machine of cell.machines) {
    const other = firstRefusal(otherFilters, task, machine, cell);
    const resources = resourceFilter === undefined ? undefined : resourceFilter.filter(task, machine, cell);
    const refusal = resources ?? other;
    if (refusal === undefined) {
      fitting += 1;
      continue;
    }
    counts.set(refusal.text, (counts.get(refusal.text) ?? 0) + 1);
    if (other !== undefined) continue;
    const short = shortOf(task.requirements, machine.free);
    if (short.length === 1) shortOnlyOf[short[0]!].push(machine.free[short[0]!]);
  }
  const advice: string[] = [];
  if (fitting === 0) {
    for (const resource of RESOURCES) {
      // Machines with none of it left free take no smaller request either.
      const frees = shortOnlyOf[resource].filter((free) => free > 0).sort((a, b) => b - a);
      if (frees.length === 0) continue;
      const threshold = frees[Math.min(pending, frees.length) - 1]!;
      const fits = frees.filter((free) => free >= threshold).length;
      advice.push(`fits ${fits.toLocaleString("en-US")} machine${fits === 1 ? "" : "s"} with ${resource} ≤ ${formatAmount(resource, threshold)}`);
    }
    const fewestVictims = cheapestPreemption(cell, filters, task, runningOn);
    if (fewestVictims !== undefined) {
      const bands = [...new Set(fewestVictims.victims.map((victim) => victim.band))].join(" and ");
      const n = fewestVictims.victims.length;
      advice.push(`fits after preempting ${n} ${bands} task${n === 1 ? "" : "s"} (on ${fewestVictims.machine})`);
    }
    if (advice.length === 0) advice.push(cellFullAdvice(task, pending, shortOnlyOf));
  } else if (fitting < pending) {
    advice.push(`${fitting} machine${fitting === 1 ? "" : "s"} can take a task now; the rest wait for capacity`);
  }
  return {
    machines: cell.machines.length,
    refusals: [...counts].map(([reason, machines]) => ({ reason, machines })).sort((a, b) => b.machines - a.machines || a.reason.localeCompare(b.reason)),
    fitting,
    advice,
  };
}

/**
 * Where preemption would make room with the fewest victims: among machines that pass every
 * filter but the resource ones, the one needing the fewest lower-band tasks removed.
 */
export function cheapestPreemption(
  cell: CellSnapshot,
  filters: readonly FilterPlugin[],
  task: TaskRequest,
  runningOn: (machine: Machine) => readonly RunningTask[],
): { machine: string; victims: RunningTask[] } | undefined {
  const placementRules = filters.filter((filter) => filter.name !== "resources" && filter.name !== "ports");
  let cheapest: { machine: string; victims: RunningTask[] } | undefined;
  for (const machine of cell.machines) {
    if (firstRefusal(placementRules, task, machine, cell) !== undefined) continue;
    const victims = victimsFor(task, machine, runningOn(machine));
    if (victims !== undefined && (cheapest === undefined || victims.length < cheapest.victims.length)) cheapest = { machine: machine.name, victims };
  }
  return cheapest;
}

/** Whether some machine of the cell takes the task as it is, without preempting anything. */
export function fitsSomewhere(cell: CellSnapshot, filters: readonly FilterPlugin[], task: TaskRequest): boolean {
  return cell.machines.some((machine) => firstRefusal(filters, task, machine, cell) === undefined);
}

/** The fewest lower-band tasks whose removal lets the task fit (largest first), or undefined. */
export function victimsFor(task: TaskRequest, machine: Machine, running: readonly RunningTask[]): RunningTask[] | undefined {
  const candidates = running.filter((victim) => mayPreempt(task.band, victim.band)).sort((a, b) => b.requirements.cpu + b.requirements.ram / 2 ** 30 - (a.requirements.cpu + a.requirements.ram / 2 ** 30));
  const free = { ...machine.free };
  let ports = machine.freePorts;
  const fits = () => FIT_RESOURCES.every((r) => fitsIn(r, task.requirements[r], free[r])) && task.requirements.ports <= ports;
  const victims: RunningTask[] = [];
  for (const victim of candidates) {
    if (fits()) break;
    victims.push(victim);
    for (const r of FIT_RESOURCES) free[r] += victim.requirements[r];
    ports += victim.requirements.ports;
  }
  return fits() && victims.length > 0 ? victims : undefined;
}

/**
 * Nothing smaller fits and nothing lower may be preempted: say the cell is full for the
 * job, how much its pending tasks need in all, and what would make room.
 */
function cellFullAdvice(task: TaskRequest, pending: number, shortOnlyOf: Record<(typeof RESOURCES)[number], number[]>): string {
  const short = RESOURCES.filter((resource) => shortOnlyOf[resource].length > 0);
  const needs = (short.length > 0 ? short : RESOURCES.filter((resource) => task.requirements[resource] > 0)).map((resource) => `${formatAmount(resource, pending * task.requirements[resource])} ${resource}`);
  const tasks = `${pending.toLocaleString("en-US")} pending task${pending === 1 ? "" : "s"}`;
  return `the cell is full for this job: its ${tasks} need ${needs.join(" and ")} more than the machines it may use have free; room comes as running tasks finish or are killed, or with more machines`;
}

function formatAmount(resource: (typeof RESOURCES)[number], value: number): string {
  if (resource === "cpu") return `${Math.floor(value * 100) / 100}`;
  const GIB = 1024 ** 3;
  return value >= GIB ? `${Math.floor((value / GIB) * 10) / 10}G` : `${Math.floor(value / 1024 ** 2)}M`;
}
