import { applyTaskEvent, type TaskLifecycleEvent, type TaskLifecycleState } from "../../index.js";

/** Applies events in order, failing loudly on one that does not apply in the state reached. */
export function run(start: TaskLifecycleState, ...events: TaskLifecycleEvent[]): TaskLifecycleState {
  let current = start;
  for (const event of events) {
    const next = applyTaskEvent(current, event);
    if (next === undefined) throw new Error(`${event.type} does not apply in ${current.state}`);
    current = next;
  }
  return current;
}
