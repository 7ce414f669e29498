import type { PriorityBand } from "@corral/contracts";

/** Above this share of the machine's memory in use by tasks, the borglet evicts… */
const PRESSURE = 0.95;
/** …until the tasks left are back under this share. */
const RELIEVED = 0.9;
/** Borg's performance isolation: only non-production work is evicted, lowest band first. */
const EVICTION_ORDER: readonly PriorityBand[] = ["best-effort", "batch"];

export interface MeasuredTask<T> {
  task: T;
  band: PriorityBand | undefined;
  ramBytes: number;
}

/**
 * Which tasks to evict when the machine's tasks together use too much of its memory (they
 * can, since non-production work runs on reclaimed reservations): best-effort before batch,
 * the largest first, until usage is back under the mark. Production work is never chosen.
 */
export function tasksToEvict<T>(tasks: readonly MeasuredTask<T>[], capacityBytes: number): MeasuredTask<T>[] {
  let total = tasks.reduce((sum, task) => sum + task.ramBytes, 0);
  if (total <= capacityBytes * PRESSURE) return [];
  const candidates = tasks
    .filter((task) => task.band !== undefined && EVICTION_ORDER.includes(task.band))
    .sort((a, b) => EVICTION_ORDER.indexOf(a.band!) - EVICTION_ORDER.indexOf(b.band!) || b.ramBytes - a.ramBytes);
  const chosen: MeasuredTask<T>[] = [];
  for (const candidate of candidates) {
    if (total <= capacityBytes * RELIEVED) break;
    chosen.push(candidate);
    total -= candidate.ramBytes;
  }
  return chosen;
}
