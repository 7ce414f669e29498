import type { SpreadDomain, Resources } from "@corral/contracts";

/**
 * Why a machine cannot take a task: a stable code for programs and a short text for people.
 * Every place that checks fit (the scheduler, the leader's plan apply, the alloc keeper,
 * preemption, `why`, `plan`, `simulate`) refuses with these, so one cause reads the same
 * everywhere and "why pending?" can count machines by it.
 */
export interface Refusal {
  readonly code: RefusalCode;
  readonly text: string;
}

export type RefusalCode =
  | "insufficient_cpu"
  | "insufficient_ram"
  | "insufficient_disk"
  | "insufficient_ports"
  | "constraint_not_met"
  | "max_per_machine"
  | "spread"
  | "ports_conflict"
  | "alloc_not_ready"
  | "runtime_not_offered";

export type FitResource = keyof Resources;

const INSUFFICIENT: Record<FitResource, Refusal> = {
  cpu: { code: "insufficient_cpu", text: "insufficient cpu" },
  ram: { code: "insufficient_ram", text: "insufficient ram" },
  disk: { code: "insufficient_disk", text: "insufficient disk" },
};

export const refusals = {
  insufficient: (resource: FitResource): Refusal => INSUFFICIENT[resource],
  ports: { code: "insufficient_ports", text: "not enough free ports" } as Refusal,
  constraint: (described: string): Refusal => ({ code: "constraint_not_met", text: `constraint ${described} not met` }),
  maxPerMachine: (max: number): Refusal => ({ code: "max_per_machine", text: `already ${max} of the job's tasks there` }),
  spread: (across: SpreadDomain): Refusal => ({ code: "spread", text: `spread across ${across}s` }),
  /** a plan's ports for a task that the machine cannot give it (taken, outside its range, or too few) */
  portsConflict: (detail: string): Refusal => ({ code: "ports_conflict", text: detail }),
  /** an alloc that cannot take tasks yet (not running, or its machine not up) */
  allocNotReady: (detail: string): Refusal => ({ code: "alloc_not_ready", text: detail }),
  /** a machine whose borglet runs no tasks of this kind (`--runtimes`) */
  runtime: (runtime: string): Refusal => ({ code: "runtime_not_offered", text: `runs no ${runtime} tasks` }),
};
