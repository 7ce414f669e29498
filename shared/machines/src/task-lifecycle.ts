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
 * Borg's task lifecycle: pending → assigned → (starting →) running → dead, with exits,
 * machine loss and kills taking a task back to pending (to run again) or to dead.
 * Pure: no timers, no I/O; timeouts and machine loss arrive as events from the master.
 */
export const taskLifecycle = setup({
  types: { context: {} as TaskContext, events: {} as TaskLifecycleEvent, input: {} as { restartPolicy: RestartPolicy } },
  guards: {
    restartsAfterExit: ({ context, event }) => {
      if (event.type !== "EXITED") return false;
      if (context.restartPolicy === "always") return true;
      if (context.restartPolicy === "never") return false;
      return event.signal !== undefined || event.exitCode !== 0;
    },
  },
  actions: {
    // The reason stays: it says why this incarnation exists ("machine lost", "exited with code 1").
    place: assign(({ event }) => (event.type === "SCHEDULE" ? { node: event.node, ports: event.ports } : {})),
    recordStart: assign(({ event }) => (event.type === "STARTED" ? { pid: event.pid } : {})),
    requeueAfterExit: assign(({ context, event }) =>
      event.type === "EXITED"
        ? {
            ...unplaced,
            incarnation: context.incarnation + 1,
            restarts: context.restarts + 1,
            exitCode: event.exitCode,
            reason: exitReason(event),
          }
        : {},
    ),
    finishAfterExit: assign(({ event }) =>
      event.type === "EXITED" ? { pid: undefined, exitCode: event.exitCode, reason: exitReason(event) } : {},
    ),
    finishAfterFailure: assign(({ event }) =>
      event.type === "FAILED" ? { pid: undefined, reason: `failed to start: ${event.message}` } : {},
    ),
    requeueAfterLoss: assign(({ context, event }) =>
      event.type === "LOST" ? { ...unplaced, incarnation: context.incarnation + 1, reason: event.reason } : {},
    ),
    recordKill: assign(({ event }) => (event.type === "KILL" ? { reason: event.reason } : {})),
    // "killed by user (terminated by SIGKILL)": why it was stopped, and how it went.
    finishKilled: assign(({ context, event }) => {
      const why = context.reason ?? "killed";
      if (event.type === "EXITED") return { pid: undefined, exitCode: event.exitCode, reason: `${why} (${exitReason(event)})` };
      if (event.type === "LOST") return { pid: undefined, reason: `${why} (${event.reason})` };
      return { pid: undefined, reason: why };
    }),
  },
}).createMachine({
  id: "task",
  context: ({ input }) => ({ restartPolicy: input.restartPolicy, incarnation: 0, restarts: 0, ports: [] }),
  initial: "pending",
  states: {
    pending: {
      on: {
        SCHEDULE: { target: "assigned", actions: "place" },
        KILL: { target: "dead", actions: "recordKill" },
      },
    },
    assigned: {
      on: {
        STARTED: { target: "running", actions: "recordStart" },
        EXITED: [
          { guard: "restartsAfterExit", target: "pending", actions: "requeueAfterExit" },
          { target: "dead", actions: "finishAfterExit" },
        ],
        FAILED: { target: "dead", actions: "finishAfterFailure" },
        LOST: { target: "pending", actions: "requeueAfterLoss" },
        KILL: { target: "terminating", actions: "recordKill" },
      },
    },
    starting: {
      on: {
        STARTED: { target: "running", actions: "recordStart" },
        EXITED: [
          { guard: "restartsAfterExit", target: "pending", actions: "requeueAfterExit" },
          { target: "dead", actions: "finishAfterExit" },
        ],
        FAILED: { target: "dead", actions: "finishAfterFailure" },
        LOST: { target: "pending", actions: "requeueAfterLoss" },
        KILL: { target: "terminating", actions: "recordKill" },
      },
    },
    running: {
      on: {
        EXITED: [
          { guard: "restartsAfterExit", target: "pending", actions: "requeueAfterExit" },
          { target: "dead", actions: "finishAfterExit" },
        ],
        FAILED: { target: "dead", actions: "finishAfterFailure" },
        LOST: { target: "pending", actions: "requeueAfterLoss" },
        KILL: { target: "terminating", actions: "recordKill" },
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
  },
});

/** A version stored beside every persisted task state; bump it on incompatible changes. */
export const TASK_LIFECYCLE_VERSION = 1;

/** The compact, plain form a task's lifecycle is stored and sent in. */
export interface TaskLifecycleState {
  state: TaskState;
  context: TaskContext;
}
