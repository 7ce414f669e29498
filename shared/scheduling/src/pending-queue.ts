import { PRIORITY_BANDS, type PriorityBand } from "@corral/contracts";

/**
 * The pending queue's order (Borg §3.2): band by band, highest first; within a band, users
 * take turns (round robin), each user's tasks in the order they became pending, so one
 * user's huge job cannot starve everybody else's in the same band.
 */
export function pendingOrder<T extends { band: PriorityBand; user: string }>(tasks: readonly T[]): T[] {
  const queues: Map<string, T[]>[] = PRIORITY_BANDS.map(() => new Map());
  const bandIndex = new Map(PRIORITY_BANDS.map((band, index) => [band, index]));
  for (const task of tasks) {
    const byUser = queues[bandIndex.get(task.band)!]!;
    const queue = byUser.get(task.user);
    if (queue === undefined) byUser.set(task.user, [task]);
    else queue.push(task);
  }
  const ordered: T[] = [];
  for (const byUser of queues) {
    const users = [...byUser.values()];
    for (let turn = 0, taken = true; taken; turn++) {
      taken = false;
      for (const queue of users) {
        if (turn < queue.length) {
          ordered.push(queue[turn]!);
          taken = true;
        }
      }
    }
  }
  return ordered;
}
