import { initialTransition, transition } from "xstate";
import { taskLifecycle, type TaskLifecycleEvent, type TaskLifecycleState } from "./task-lifecycle.js";
import type { RestartPolicy, TaskState } from "@corral/contracts";

export function newTask(restartPolicy: RestartPolicy): TaskLifecycleState {
  const [snapshot] = initialTransition(taskLifecycle, { restartPolicy });
  return { state: snapshot.value as TaskState, context: snapshot.context };
}

/**
 * Applies one event to a stored task state. Returns undefined when the event does not
 * apply in that state (a late or duplicate report), so callers can ignore it explicitly.
 */
export function applyTaskEvent(current: TaskLifecycleState, event: TaskLifecycleEvent): TaskLifecycleState | undefined {
  const snapshot = taskLifecycle.resolveState({ value: current.state, context: current.context });
  if (!snapshot.can(event)) return undefined;
  const [next] = transition(taskLifecycle, snapshot, event);
  return { state: next.value as TaskState, context: next.context };
}
