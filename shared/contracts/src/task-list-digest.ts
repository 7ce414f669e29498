import type { HeartbeatTask } from "./messages-borglet.js";

/** What a digest of a machine's task list covers of each task: which run of it, and how far along. */
export type DigestedTask = Pick<HeartbeatTask, "taskId" | "incarnation" | "state">;

const FNV_PRIME = 0x01000193;
/** Two hashes with different offsets, so that two task lists agree by accident about once in 2^64. */
const OFFSETS = [0x811c9dc5, 0x050c5d1f] as const;

/**
 * A short digest of a machine's task list, the same whatever the order: a borglet whose
 * list has not changed since its last full heartbeat sends this in place of the list, and
 * a master compares it with the digest of what its state has placed there. Sums of
 * per-task hashes, so the list need not be sorted.
 */
export function taskListDigest(tasks: Iterable<DigestedTask>): string {
  let count = 0;
  let first = 0;
  let second = 0;
  for (const task of tasks) {
    count += 1;
    const text = `${task.taskId}\u0000${task.incarnation}\u0000${task.state}`;
    first = (first + fnv1a(text, OFFSETS[0])) >>> 0;
    second = (second + fnv1a(text, OFFSETS[1])) >>> 0;
  }
  return `${count}.${first.toString(36)}.${second.toString(36)}`;
}

function fnv1a(text: string, offset: number): number {
  let hash = offset;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}
