import type { Heartbeat } from "@corral/contracts";
import { isAlloc, type CellState } from "./cell-state.js";

/**
 * Whether a heartbeat tells the leader nothing about tasks that it does not already have:
 * the machine runs exactly the tasks placed on it, each as the incarnation placed, and none
 * needs a start caught up or a revocation sent again. Judged by a link shard against its
 * copy of the committed state; anything else goes to the leader in full.
 */
export function heartbeatChangesNothing(state: CellState, hb: Heartbeat): boolean {
  if (hb.usageMoved === true) return false; // the leader keeps usage current; only moves past the threshold reach it
  if (state.processCount(hb.node) !== hb.tasks.length) return false;
  const seen = new Set<string>();
  for (const reported of hb.tasks) {
    if (seen.has(reported.taskId)) return false;
    seen.add(reported.taskId);
    const ref = state.task(reported.taskId);
    if (ref === undefined || isAlloc(ref.job) || !state.reportedMatches(ref, hb.node, reported)) return false;
    const placedAs = ref.task.lifecycle.state;
    if (placedAs === "assigned" && reported.state === "running") return false; // a start the leader has not heard of
    if (placedAs === "terminating" && reported.state === "running") return false; // a revocation that may have been lost
  }
  return true;
}
