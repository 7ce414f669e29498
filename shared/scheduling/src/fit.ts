import type { Resources } from "@corral/contracts";
import { refusals, type FitResource, type Refusal } from "./refusal.js";

/** Cpu is fractional: sums of fractions may land a hair above an exact fit. */
const CPU_EPSILON = 1e-9;

/** In the order a refusal names them: memory first, the resource most often short. */
export const FIT_RESOURCES: readonly FitResource[] = ["ram", "cpu", "disk"];

/** Whether `need` of this resource fits in `room` of it. */
export function fitsIn(resource: FitResource, need: number, room: number): boolean {
  return need <= room + (resource === "cpu" ? CPU_EPSILON : 0);
}

/** The resources `need` asks more of than `room` has. */
export function shortOf(need: Readonly<Resources>, room: Readonly<Resources>): FitResource[] {
  return FIT_RESOURCES.filter((resource) => !fitsIn(resource, need[resource], room[resource]));
}

/**
 * The one resource check (Nomad's AllocsFit): why `need` does not fit in `room`, or
 * undefined when it does. The scheduler's filter, the leader's plan apply and the alloc
 * keeper all decide with it.
 */
export function resourceRefusal(need: Readonly<Resources>, room: Readonly<Resources>): Refusal | undefined {
  for (const resource of FIT_RESOURCES) if (!fitsIn(resource, need[resource], room[resource])) return refusals.insufficient(resource);
  return undefined;
}
