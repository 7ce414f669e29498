import { assign, setup } from "xstate";
import type { RestartPolicy, TaskState } from "@corral/contracts";

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
  exitCode?: number;
}

export type TaskLifecycleEvent =
  | { type: "SCHEDULE"; node: string; ports: number[] }
  | { type: "STARTED"; pid: number }
  | { type: "EXITED"; exitCode?: number; signal?: string }
  | { type: "FAILED"; message: string }
  | { type: "LOST"; reason: string }
  | { type: "KILL"; reason: string };

function exitReason(event: { exitCode?: number; signal?: string }): string {
  if (event.signal !== undefined) return `terminated by ${event.signal}`;
  return `exited with code ${event.exitCode ?? "unknown"}`;
}

/** Placement fields are cleared whenever a task leaves its machine. */
const unplaced = { node: undefined, ports: [], pid: undefined };

/**
 * The guards and actions as plain functions of (context, event). The xstate machine below
 * runs them through `setup()`, and the compiled interpreter (task-transitions.ts) runs the
 * very same functions, so the two cannot drift apart.
 */
export const taskGuards = {
  restartsAfterExit: (context: TaskContext, event: TaskLifecycleEvent): boolean => {
    if (event.type !== "EXITED") return false;
    if (context.restartPolicy === "always") return true;
    if (context.restartPolicy === "never") return false;
    return event.signal !== undefined || event.exitCode !== 0;
  },
};

export const taskActions = {
  // The reason stays: it says why this incarnation exists ("machine lost", "exited with code 1").
  place: (_context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> =>
    event.type === "SCHEDULE" ? { node: event.node, ports: event.ports } : {},
  recordStart: (_context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> => (event.type === "STARTED" ? { pid: event.pid } : {}),
  requeueAfterExit: (context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> =>
    event.type === "EXITED"
      ? { ...unplaced, incarnation: context.incarnation + 1, restarts: context.restarts + 1, exitCode: event.exitCode, reason: exitReason(event) }
      : {},
  finishAfterExit: (_context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> =>
    event.type === "EXITED" ? { pid: undefined, exitCode: event.exitCode, reason: exitReason(event) } : {},
  finishAfterFailure: (_context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> =>
    event.type === "FAILED" ? { pid: undefined, reason: `failed to start: ${event.message}` } : {},
  requeueAfterLoss: (context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> =>
    event.type === "LOST" ? { ...unplaced, incarnation: context.incarnation + 1, reason: event.reason } : {},
  recordKill: (_context: TaskContext, event: TaskLifecycleEvent): Partial<TaskContext> => (event.type === "KILL" ? { reason: event.reason } : {}),
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

/** A placed task (assigned, starting, running) reacts to the same events in the same way. */
const placedTransitions = {
  STARTED: { target: "running", actions: "recordStart" },
  EXITED: [
    { guard: "restartsAfterExit", target: "pending", actions: "requeueAfterExit" },
    { target: "dead", actions: "finishAfterExit" },
  ],
  FAILED: { target: "dead", actions: "finishAfterFailure" },
  LOST: { target: "pending", actions: "requeueAfterLoss" },
  KILL: { target: "terminating", actions: "recordKill" },
} as const;

/** The lifecycle's states and transitions as data: the machine's config, and the interpreter's table. */
export const TASK_STATE_CONFIG = {
  pending: {
    on: {
      SCHEDULE: { target: "assigned", actions: "place" },
      KILL: { target: "dead", actions: "recordKill" },
    },
  },
  assigned: { on: placedTransitions },
  starting: { on: placedTransitions },
  running: {
    on: {
      EXITED: placedTransitions.EXITED,
      FAILED: placedTransitions.FAILED,
      LOST: placedTransitions.LOST,
      KILL: placedTransitions.KILL,
    },
  },
  terminating: {
    on: {
      EXITED: { target: "dead", actions: "finishKilled" },
      FAILED: { target: "dead", actions: "finishKilled" },
      LOST: { target: "dead", actions: "finishKilled" },
    },
  },
  dead: { type: "final" },
} as const;

/**
 * Borg's task lifecycle: pending → assigned → (starting →) running → dead, with exits,
 * machine loss and kills taking a task back to pending (to run again) or to dead.
 * Pure: no timers, no I/O; timeouts and machine loss arrive as events from the master.
 */
export const taskLifecycle = setup({
  types: { context: {} as TaskContext, events: {} as TaskLifecycleEvent, input: {} as { restartPolicy: RestartPolicy } },
  guards: {
    restartsAfterExit: ({ context, event }) => taskGuards.restartsAfterExit(context, event),
  },
  actions: {
    place: assign(({ context, event }) => taskActions.place(context, event)),
    recordStart: assign(({ context, event }) => taskActions.recordStart(context, event)),
    requeueAfterExit: assign(({ context, event }) => taskActions.requeueAfterExit(context, event)),
    finishAfterExit: assign(({ context, event }) => taskActions.finishAfterExit(context, event)),
    finishAfterFailure: assign(({ context, event }) => taskActions.finishAfterFailure(context, event)),
    requeueAfterLoss: assign(({ context, event }) => taskActions.requeueAfterLoss(context, event)),
    recordKill: assign(({ context, event }) => taskActions.recordKill(context, event)),
    finishKilled: assign(({ context, event }) => taskActions.finishKilled(context, event)),
  },
}).createMachine({
  id: "task",
  context: ({ input }) => ({ restartPolicy: input.restartPolicy, incarnation: 0, restarts: 0, ports: [] }),
  initial: "pending",
  states: TASK_STATE_CONFIG,
});

/** A version stored beside every persisted task state; bump it on incompatible changes. */
export const TASK_LIFECYCLE_VERSION = 1;

/** The compact, plain form a task's lifecycle is stored and sent in. */
export interface TaskLifecycleState {
  state: TaskState;
  context: TaskContext;
}
