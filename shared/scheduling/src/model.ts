/**
 * The scheduler's own view of a cell: plain data, no I/O. The scheduler service, the
 * offline simulator and the benchmarks all build it, so the same code places tasks everywhere.
 */
import { runtimeOf, taskId, type Constraint, type Preference, type PriorityBand, type Resources, type SpreadSetting, type RuntimeName } from "@corral/contracts";

/** One task to place, with what its job asks of machines. */
export interface TaskRequest {
  taskId: string;
  incarnation: number;
  job: string;
  user: string;
  band: PriorityBand;
  requirements: Resources & { ports: number };
  constraints: readonly Constraint[];
  preferences: readonly Preference[];
  /** declared failure domains to spread across, or "none" (no spreading, not even over machines by default) */
  spread?: SpreadSetting;
  maxPerMachine?: number;
  /** machines the task kept crashing on: scored down, so another machine that fits is chosen */
  avoid?: readonly string[];
  /** placed on limits alone, never on reclaimed room (an alloc, which must really reserve) */
  onLimitsOnly?: boolean;
  /** the runtime it runs in, where machines offer only some (an alloc runs nothing: none) */
  runtime?: RuntimeName;
}

/** A machine as offered to the scheduler: its shape, attributes and what is already on it. */
export interface MachineOffer {
  name: string;
  capacity: Resources;
  free: Resources;
  attributes: Readonly<Record<string, string>>;
  portRange: readonly [number, number];
  usedPorts: readonly number[];
  /** tasks already on it, by job (for spread and max-per-machine) */
  jobTasks?: Readonly<Record<string, number>>;
  /** reserved by its tasks but not used (Borg's reclamation): room for non-production work only */
  reclaimable?: Readonly<{ cpu: number; ram: number }>;
}

/** Bands that may run on reclaimed resources (Borg §5.5): non-production work only. */
export function mayUseReclaimed(band: PriorityBand): boolean {
  return band === "batch" || band === "best-effort";
}

/** Whether this task may be placed on reclaimed room: non-production work that is not itself a reservation. */
export function usesReclaimed(task: Pick<TaskRequest, "band" | "onLimitsOnly">): boolean {
  return mayUseReclaimed(task.band) && task.onLimitsOnly !== true;
}

/** What a job's spec says about placement (JobSpec has these fields; this package needs no more of it). */
export interface PlacementSpec {
  priority: PriorityBand;
  requirements: Resources & { ports: number };
  constraints: readonly Constraint[];
  preferences: readonly Preference[];
  spread?: SpreadSetting | undefined;
  maxPerMachine?: number | undefined;
  kind?: "job" | "alloc" | undefined;
  image?: string | undefined;
}

/** Task `index` of a job, as the placement pipeline takes it. */
export function taskRequestFor(job: string, user: string, spec: PlacementSpec, index: number, incarnation: number): TaskRequest {
  return {
    taskId: taskId(index, job),
    incarnation,
    job,
    user,
    band: spec.priority,
    requirements: spec.requirements,
    constraints: spec.constraints,
    preferences: spec.preferences,
    ...(spec.spread === undefined ? {} : { spread: spec.spread }),
    ...(spec.maxPerMachine === undefined ? {} : { maxPerMachine: spec.maxPerMachine }),
    ...(spec.kind === "alloc" ? {} : { runtime: runtimeOf(spec) }),
  };
}
