// The runtime of a hollow (simulated) machine: a task "starts" at once with a made-up pid and
// runs until stopped, or, when its job sets HOLLOW_RUN_MS, exits 0 after that long. Everything
// else a machine does is the real borglet's code (see task-runtime.ts).
import type { Lease } from "@corral/contracts";
import type { TaskExit } from "./host-task.js";
import type { RunningTask, TaskLifecycle, TaskRuntime } from "./task-runtime.js";

/** Set in a job's env, a hollow task "runs" this long and then exits 0 (batch work). */
export const HOLLOW_RUN_MS_ENV = "HOLLOW_RUN_MS";

/** One counter for a whole fleet, so pids differ across its machines as on one host. */
export class SimulatedPids {
  private next = 1000;
  take(): number {
    return this.next++;
  }
}

class SimulatedTask implements RunningTask {
  pid: number | undefined;
  private stopping = false;
  private ended = false;
  private readonly startedAt = Date.now();
  private finishTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly lease: Lease,
    pid: number,
    private readonly lifecycle: TaskLifecycle,
  ) {
    this.pid = pid;
    const runMs = Number(lease.env[HOLLOW_RUN_MS_ENV]);
    if (Number.isFinite(runMs) && runMs >= 0) this.finishTimer = setTimeout(() => this.end({ revoked: false, exitCode: 0 }), runMs);
    // After the borglet has recorded the task, as a real start is reported later than it is asked for.
    queueMicrotask(() => lifecycle.started(pid));
  }

  get terminating(): boolean {
    return this.stopping;
  }

  exec(): Promise<{ exitCode: number | null; output: string }> {
    return Promise.resolve({ exitCode: 0, output: "" });
  }

  /** A simulated process dies at the first signal: its grace period is not waited out. */
  stop(_gracePeriodMs: number, revoked: boolean): void {
    if (this.stopping || this.ended) return;
    this.stopping = true;
    queueMicrotask(() => this.end({ revoked, signal: "SIGTERM" }));
  }

  private end(exit: TaskExit): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.finishTimer);
    this.lifecycle.exited({ ...exit, ranForMs: Date.now() - this.startedAt });
  }
}

export class SimulatedRuntime implements TaskRuntime {
  readonly checksHealth = false;

  constructor(private readonly pids: SimulatedPids) {}

  open(): RunningTask[] {
    return [];
  }

  start(lease: Lease, _log: unknown, lifecycle: TaskLifecycle): RunningTask {
    return new SimulatedTask(lease, this.pids.take(), lifecycle);
  }

  close(): void {}
}
