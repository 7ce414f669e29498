/** Borg's states plus what the real world needs between them (docs/architecture.md § Task lifecycle). */
export const TASK_STATES = ["pending", "assigned", "running", "terminating", "dead"] as const;
export type TaskState = (typeof TASK_STATES)[number];

/**
 * Why a task is where it is, as a code beside the reason's text: programs read the code,
 * people the text. `exited`, `signalled`, `oom`, `unhealthy`: its own end; `failed_to_start`;
 * a run lost with its machine (`machine_lost`), gone from it (`vanished`), `evicted` for
 * room, or stopped with its alloc (`alloc_stopped`); `killed`; `preempted`; `replaced` (by a
 * newer revision of its job, in a rollout).
 */
export const TASK_REASON_CODES = ["exited", "signalled", "oom", "unhealthy", "failed_to_start", "machine_lost", "vanished", "evicted", "alloc_stopped", "killed", "preempted", "replaced"] as const;
export type TaskReasonCode = (typeof TASK_REASON_CODES)[number];

/** States in which a task holds resources on a machine. */
export const PLACED_STATES: ReadonlySet<TaskState> = new Set(["assigned", "running", "terminating"]);

/** Whether a task in this state holds resources on a machine (a state read from outside is a plain string). */
export function isPlaced(state: string): boolean {
  return (PLACED_STATES as ReadonlySet<string>).has(state);
}

/** "unknown": a new leader knows the machine only from its tasks until it heartbeats. */
export const NODE_STATES = ["up", "down", "unknown"] as const;
export type NodeState = (typeof NODE_STATES)[number];
