import type { TaskEvent } from "@corral/contracts";

/** Enough for every run a busy machine finishes while it is cut off for some minutes. */
const REMEMBERED = 20_000;

type ExitEvent = TaskEvent & { kind: "exited" };

/**
 * The runs this machine saw finish their work on their own (exit 0, no signal, not stopped
 * by anyone), each task's last. When its master gave such a run up with the machine (marked
 * down while the machine was frozen or cut off) and places the task's next incarnation here,
 * the lease names the lost run: finding it here means the task is done, not to be run again.
 */
export class FinishedRuns {
  private readonly exits = new Map<string, ExitEvent>();

  constructor(private readonly remembered = REMEMBERED) {}

  note(event: ExitEvent): void {
    const finishedItsWork = !event.revoked && event.evicted === undefined && event.unhealthy === undefined && event.signal === undefined && event.exitCode === 0;
    if (!finishedItsWork) return;
    this.exits.delete(event.taskId); // re-inserted last: the oldest go first
    this.exits.set(event.taskId, event);
    if (this.exits.size > this.remembered) this.exits.delete(this.exits.keys().next().value!);
  }

  /** The exit of the task's run `incarnation`, if this machine saw it finish its work. */
  exitOf(taskId: string, incarnation: number): ExitEvent | undefined {
    const exit = this.exits.get(taskId);
    return exit?.incarnation === incarnation ? exit : undefined;
  }
}
