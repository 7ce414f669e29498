// Whether a heartbeat changes anything. One judgement for both judges, the link shards and the
// leader with its own share, so they never disagree about a machine.
import { taskListDigest, type DigestedTask, type Heartbeat } from "@corral/contracts";
import { isAlloc } from "../allocs/alloc-sets.js";
import type { CellState } from "../state/cell-state.js";

/**
 * Whether a heartbeat tells the leader nothing about tasks that it does not already have:
 * the machine runs exactly the tasks placed on it, each as the incarnation placed, and none
 * needs a start caught up or a revocation sent again. Judged by a link shard against its
 * copy of the committed state; anything else goes to the leader in full. A heartbeat that
 * gives only its list's digest changes nothing when the digest is that of what is placed
 * there; otherwise only its full list can say what changed.
 */
export function heartbeatChangesNothing(state: CellState, hb: Heartbeat): boolean {
  if (hb.usageMoved === true) return false; // the leader keeps usage current; only moves past the threshold reach it
  if (hb.tasks === undefined) return hb.tasksDigest === placedTasksDigest(state, hb.node);
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

/**
 * The digest a borglet would send that runs exactly what the state places on the machine,
 * each task as far along as the state knows: assigned is starting there, running is
 * running, terminating is terminating. A borglet ahead of the state (a start not yet
 * reported) lists its tasks in full anyway, since its list changed.
 */
export function placedTasksDigest(state: CellState, node: string): string {
  let byNode = placedDigests.get(state);
  if (byNode === undefined) placedDigests.set(state, (byNode = new Map()));
  const stamp = state.placementStamp(node);
  const known = byNode.get(node);
  if (known?.stamp === stamp) return known.digest;
  const digest = digestOfPlaced(state, node);
  byNode.set(node, { stamp, digest });
  return digest;
}

/** Each state's machines' placed-task digests, kept until a task there changes (most machines' heartbeats find theirs). */
const placedDigests = new WeakMap<CellState, Map<string, { stamp: number; digest: string }>>();

function digestOfPlaced(state: CellState, node: string): string {
  const placed: DigestedTask[] = [];
  for (const ref of state.tasksOn(node)) {
    if (isAlloc(ref.job)) continue;
    const { lifecycle } = ref.task;
    placed.push({ taskId: ref.id, incarnation: lifecycle.context.incarnation, state: lifecycle.state === "running" ? "running" : lifecycle.state === "terminating" ? "terminating" : "starting" });
  }
  return taskListDigest(placed);
}
