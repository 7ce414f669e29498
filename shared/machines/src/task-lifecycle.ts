import { assign, setup } from "xstate";
import type { RestartPolicy, TaskReasonCode, TaskState } from "@corral/contracts";

/** What a task carries between transitions; stored compactly with its state. */
export interface TaskContext {
  restartPolicy: RestartPolicy;
  /** bumped each time the task goes back to pending, so a late event of an old run is told apart */
  incarnation: number;
  restarts: number;
  node?: string;
  ports: number[];
  pid?: number;
  reason?: string;
  /** the reason as a code: rules read this, never the text */
  reasonCode?: TaskReasonCode;
  exitCode?: number;
  /** set while the task is stopped to make room for a higher-priority one: it runs again after */
  preemptedBy?: string;
  /** set while the task is stopped to run again from a newer revision of its job (a rollout) */
  replacedBy?: number;
  /** the alloc (an alloc set's task id) it runs in, for a job in an alloc set */
  alloc?: string;
  /** exits in a row, each after a short run: the restart backoff grows with it */
  crashStreak?: number;
  /** machines it crashed on during the streak, most recent last: the scheduler avoids them */
  crashedOn?: string[];
  /** pending after an exit of its own, so placed again only after its restart backoff (not after a loss or a preemption) */
  backingOff?: boolean;
}

/** How a run was lost: its machine marked down, gone from its machine, evicted for room, or its alloc stopped. */
export type LossCause = Extract<TaskReasonCode, "machine_lost" | "vanished" | "evicted" | "alloc_stopped">;

export type TaskLifecycleEvent =
  | { type: "SCHEDULE"; node: string; ports: number[]; alloc?: string }
  | { type: "STARTED"; pid: number }
  | { type: "EXITED"; exitCode?: number; signal?: string; oom?: boolean; oomOfAlloc?: boolean; unhealthy?: string; ranForMs?: number }
  | { type: "FAILED"; message: string }
  /** the run is gone without an exit of its own; `cause` says how, so no one reads it from the text */
  | { type: "LOST"; reason: string; cause: LossCause }
  /** an exit of the run before the current one, reported by its machine after the leader had given that run up as lost */
  | { type: "EXITED_AFTER_LOSS"; incarnation: number; exitCode?: number; signal?: string }
  | { type: "KILL"; reason: string }
  | { type: "PREEMPT"; by: string }
  /** stop this run so that the task runs again from the job's revision `revision` */
  | { type: "REPLACE"; revision: number };

function exitReason(event: { exitCode?: number; signal?: string; oom?: boolean; oomOfAlloc?: boolean; unhealthy?: string }): string {
  if (event.unhealthy !== undefined) return `unhealthy: ${event.unhealthy}`;
  // Raising the task's own ram would not help here: its alloc is what is too small.
  if (event.oom === true && event.oomOfAlloc === true) return `OOM: killed because its alloc's tasks together went over the alloc's memory${event.signal === undefined ? "" : ` (${event.signal})`}`;
  if (event.oom === true) return `OOM: killed for going over its memory limit${event.signal === undefined ? "" : ` (${event.signal})`}`;
  if (event.signal !== undefined) return `terminated by ${event.signal}`;
  return `exited with code ${event.exitCode ?? "unknown"}`;
}

/** The code of an exit's reason, from the same fields as its text. */
function exitReasonCode(event: { signal?: string; oom?: boolean; unhealthy?: string }): TaskReasonCode {
  if (event.unhealthy !== undefined) return "unhealthy";
  if (event.oom === true) return "oom";
  return event.signal !== undefined ? "signalled" : "exited";
}

/** The reason a task is put back to pending when its machine is marked down. */
export const MACHINE_LOST = "machine lost";

/** A run this long proves the task can run: the next exit starts a new streak (Kubernetes' rule too). */
export const STABLE_RUN_MS = 10 * 60_000;
const RESTART_BACKOFF_BASE_MS = 1000;
export const RESTART_BACKOFF_CAP_MS = 5 * 60_000;
const CRASHED_ON_KEPT = 4;

/**
 * How long a task that exited `streak` times in a row waits before it is placed again: the
 * first restart is immediate, then 1 s, 2 s, 4 s, … up to five minutes.
 */
export function restartBackoffMs(streak: number): number {
  if (streak <= 1) return 0;
  return Math.min(RESTART_BACKOFF_CAP_MS, RESTART_BACKOFF_BASE_MS * 2 ** (streak - 2));
}

/** The streak and the machines to avoid after an exit that restarts the task. */
function afterCrash(context: TaskContext, event: { exitCode?: number; signal?: string; oom?: boolean; unhealthy?: string; ranForMs?: number }): Pick<TaskContext, "crashStreak" | "crashedOn" | "backingOff"> {
  const stable = (event.ranForMs ?? 0) >= STABLE_RUN_MS;
  const failed = event.oom === true || event.unhealthy !== undefined || event.signal !== undefined || (event.exitCode ?? 0) !== 0;
  const earlier = stable ? [] : (context.crashedOn ?? []);
  const crashedOn = failed && context.node !== undefined ? [...earlier.filter((node) => node !== context.node), context.node].slice(-CRASHED_ON_KEPT) : earlier;
  return { crashStreak: stable ? 1 : (context.crashStreak ?? 0) + 1, crashedOn, backingOff: true };
}

/** Placement fields are cleared whenever a task leaves its machine. */
const unplaced = { node: undefined, ports: [], pid: undefined, alloc: undefined, backingOff: undefined };

/**
 * The guards and actions as plain functions of (context, event). The xstate machine below
 * runs them through `setup()`, and the compiled interpreter (task-transitions.ts) runs the
 * very same functions, so the two cannot drift apart.
 */
export const taskGuards = {
  /** stopped to run again: preempted for room, or replaced by a rollout */
  runsAgainAfterStop: (context: TaskContext): boolean => context.preemptedBy !== undefined || context.replacedBy !== undefined,
  restartsAfterExit: (context: TaskContext, event: TaskLifecycleEvent): boolean => {
    if (event.type !== "EXITED") return false;
    if (context.restartPolicy === "always") return true;
    if (context.restartPolicy === "never") return false;
    // Stopped for failing its health check: a failure, however politely it exited.
    return event.unhealthy !== undefined || event.signal !== undefined || event.exitCode !== 0;
  },
  /**
   * The run given up with its machine finished its work after all: a batch task (never,
   * on-failure) that exited 0 in the incarnation just before this one, while this one has
   * not started, is done; running it again would run it twice. Any other late exit changes
   * nothing: a failure is what the new incarnation is already there to redo, and a service
   * (always) runs again anyway.
   */
  earlierRunFinished: (context: TaskContext, event: TaskLifecycleEvent): boolean =>
    event.type === "EXITED_AFTER_LOSS" &&
    event.incarnation === lostRunThatMayFinishIt(context) &&
    event.signal === undefined &&
    event.exitCode === 0,
};

/**
 * The incarnation before this one when it was given up with its machine and its exit 0,
 * reported late, would still finish the task (a batch task): a lease carries it, so a
 * machine that saw that run finish does not start this one. Undefined when no late exit
 * could matter.
 */
export function lostRunThatMayFinishIt(context: TaskContext): number | undefined {
  return context.restartPolicy !== "always" && context.reasonCode === "machine_lost" && context.incarnation > 0 ? context.incarnation - 1 : undefined;
}

export const taskActions = {
  // The reason stays: it says why this incarnation exists ("machine lost", "exited with code 1").
  place: (_context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> =>
    event.type === "SCHEDULE" ? { node: event.node, ports: event.ports, backingOff: undefined, ...(event.alloc === undefined ? {} : { alloc: event.alloc }) } : {},
  recordStart: (_context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> => (event.type === "STARTED" ? { pid: event.pid } : {}),
  requeueAfterExit: (context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> =>
    event.type === "EXITED"
      ? { ...unplaced, ...afterCrash(context, event), incarnation: context.incarnation + 1, restarts: context.restarts + 1, exitCode: event.exitCode, reason: exitReason(event), reasonCode: exitReasonCode(event) }
      : {},
  finishAfterExit: (_context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> =>
    event.type === "EXITED" ? { pid: undefined, exitCode: event.exitCode, reason: exitReason(event), reasonCode: exitReasonCode(event) } : {},
  finishAfterLateExit: (_context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> =>
    event.type === "EXITED_AFTER_LOSS" ? { ...unplaced, exitCode: event.exitCode, reason: "exited with code 0 (reported after its machine was marked down)", reasonCode: "exited" } : {},
  finishAfterFailure: (_context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> =>
    event.type === "FAILED" ? { pid: undefined, reason: `failed to start: ${event.message}`, reasonCode: "failed_to_start" } : {},
  requeueAfterLoss: (context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> =>
    event.type === "LOST" ? { ...unplaced, incarnation: context.incarnation + 1, reason: event.reason, reasonCode: event.cause } : {},
  recordKill: (_context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> => (event.type === "KILL" ? { reason: event.reason, reasonCode: "killed", preemptedBy: undefined, replacedBy: undefined } : {}),
  recordPreemption: (_context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> =>
    event.type === "PREEMPT" ? { reason: `preempted by ${event.by}`, reasonCode: "preempted", preemptedBy: event.by } : {},
  recordReplacement: (_context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> =>
    event.type === "REPLACE" ? { reason: `replaced by revision ${event.revision}`, reasonCode: "replaced", replacedBy: event.revision } : {},
  // Preempted or replaced work is not failed work: back to pending, not counted as a restart.
  requeueAfterStop: (context: TaskContext): Partial<TaskContext> => ({
    ...unplaced,
    incarnation: context.incarnation + 1,
    ...(context.replacedBy !== undefined
      ? { reason: `replaced by revision ${context.replacedBy}`, reasonCode: "replaced" as const }
      : { reason: `preempted by ${context.preemptedBy ?? "a higher-priority task"}`, reasonCode: "preempted" as const }),
    preemptedBy: undefined,
    replacedBy: undefined,
  }),
  // "killed by user (terminated by SIGKILL)": why it was stopped, and how it went.
  finishKilled: (context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> => {
    const why = context.reason ?? "killed";
    if (event.type === "EXITED") return { pid: undefined, exitCode: event.exitCode, reason: `${why} (${exitReason(event)})` };
    if (event.type === "LOST") return { pid: undefined, reason: `${why} (${event.reason})` };
    return { pid: undefined, reason: why };
  },
};

export type TaskGuardName = keyof typeof taskGuards;
export type TaskActionName = keyof typeof taskActions;

export interface TaskTransitionConfig {
  target: TaskState;
  guard?: TaskGuardName;
  actions: TaskActionName;
}

/** A placed task (assigned, running) reacts to the same events in the same way. */
const placedTransitions = {
  STARTED: { target: "running", actions: "recordStart" },
  EXITED: [
    { guard: "restartsAfterExit", target: "pending", actions: "requeueAfterExit" },
    { target: "dead", actions: "finishAfterExit" },
  ],
  FAILED: { target: "dead", actions: "finishAfterFailure" },
  LOST: { target: "pending", actions: "requeueAfterLoss" },
  KILL: { target: "terminating", actions: "recordKill" },
  PREEMPT: { target: "terminating", actions: "recordPreemption" },
  REPLACE: { target: "terminating", actions: "recordReplacement" },
} as const;

/** Leaving a machine while being stopped: a preempted or replaced task goes back to pending, a killed one is done. */
const stoppedTransition = [
  { guard: "runsAgainAfterStop", target: "pending", actions: "requeueAfterStop" },
  { target: "dead", actions: "finishKilled" },
] as const;

/** The lifecycle's states and transitions as data: the machine's config, and the interpreter's table. */
export const TASK_STATE_CONFIG = {
  pending: {
    on: {
      SCHEDULE: { target: "assigned", actions: "place" },
      KILL: { target: "dead", actions: "recordKill" },
      EXITED_AFTER_LOSS: { guard: "earlierRunFinished", target: "dead", actions: "finishAfterLateExit" },
    },
  },
  // Placed again but not started: the master revokes the new lease as it finishes the task.
  assigned: { on: { ...placedTransitions, EXITED_AFTER_LOSS: { guard: "earlierRunFinished", target: "dead", actions: "finishAfterLateExit" } } },
  running: {
    on: {
      EXITED: placedTransitions.EXITED,
      FAILED: placedTransitions.FAILED,
      LOST: placedTransitions.LOST,
      KILL: placedTransitions.KILL,
      PREEMPT: placedTransitions.PREEMPT,
      REPLACE: placedTransitions.REPLACE,
    },
  },
  terminating: {
    on: {
      EXITED: stoppedTransition,
      FAILED: stoppedTransition,
      LOST: stoppedTransition,
      // Killed while being preempted: it stays stopped for good.
      KILL: { target: "terminating", actions: "recordKill" },
    },
  },
  dead: { type: "final" },
} as const;

/**
 * Borg's task lifecycle: pending → assigned → running → dead, with exits,
 * machine loss and kills taking a task back to pending (to run again) or to dead.
 * Pure: no timers, no I/O; timeouts and machine loss arrive as events from the master.
 */
export const taskLifecycle = setup({
  types: { context: {} as TaskContext, events: {} as TaskLifecycleEvent, input: {} as { restartPolicy: RestartPolicy } },
  guards: {
    restartsAfterExit: ({ context, event }) => taskGuards.restartsAfterExit(context, event),
    runsAgainAfterStop: ({ context }) => taskGuards.runsAgainAfterStop(context),
    earlierRunFinished: ({ context, event }) => taskGuards.earlierRunFinished(context, event),
  },
  actions: {
    place: assign(({ context, event }) => taskActions.place(context, event)),
    recordStart: assign(({ context, event }) => taskActions.recordStart(context, event)),
    requeueAfterExit: assign(({ context, event }) => taskActions.requeueAfterExit(context, event)),
    finishAfterExit: assign(({ context, event }) => taskActions.finishAfterExit(context, event)),
    finishAfterLateExit: assign(({ context, event }) => taskActions.finishAfterLateExit(context, event)),
    finishAfterFailure: assign(({ context, event }) => taskActions.finishAfterFailure(context, event)),
    requeueAfterLoss: assign(({ context, event }) => taskActions.requeueAfterLoss(context, event)),
    recordKill: assign(({ context, event }) => taskActions.recordKill(context, event)),
    finishKilled: assign(({ context, event }) => taskActions.finishKilled(context, event)),
    recordPreemption: assign(({ context, event }) => taskActions.recordPreemption(context, event)),
    recordReplacement: assign(({ context, event }) => taskActions.recordReplacement(context, event)),
    requeueAfterStop: assign(({ context }) => taskActions.requeueAfterStop(context)),
  },
}).createMachine({
  id: "task",
  context: ({ input }) => ({ restartPolicy: input.restartPolicy, incarnation: 0, restarts: 0, ports: [] }),
  initial: "pending",
  states: TASK_STATE_CONFIG,
});

/**
 * A version stored beside every persisted task state; bump it on incompatible changes.
 * 2: preemption (PREEMPT, `preemptedBy`) and the placement fields of job specs.
 * 3: alloc sets (a task's `alloc`, the spec's `kind` and `allocSet`), restart backoff
 *    (`crashStreak`, `crashedOn`), and the spec's `image`, `volumes` and `health`.
 * 4: reason codes (`reasonCode`).
 * 5: rollouts (REPLACE, `replacedBy`, reason code `replaced`; a task's `revision` beside its
 *    state, and the job's revisions and rollout in its head).
 */
export const TASK_LIFECYCLE_VERSION = 5;

/** Versions this code still reads: each earlier version is the next one without its additions. */
export const READABLE_TASK_LIFECYCLE_VERSIONS: readonly number[] = [1, 2, 3, 4, 5];

/**
 * A lifecycle as this version keeps it, from one stored with `version`. Before version 4 a
 * reason was text alone; the one rule that reads a reason (a late exit after a machine
 * loss, lostRunThatMayFinishIt) needs its code, given here, where stored records are read,
 * and nowhere else.
 */
export function upgradedLifecycle(lifecycle: TaskLifecycleState, version: number): TaskLifecycleState {
  const { context } = lifecycle;
  if (version >= 4 || context.reasonCode !== undefined || context.reason !== MACHINE_LOST) return lifecycle;
  return { ...lifecycle, context: { ...context, reasonCode: "machine_lost" } };
}

/** The compact, plain form a task's lifecycle is stored and sent in. */
export interface TaskLifecycleState {
  state: TaskState;
  context: TaskContext;
}
