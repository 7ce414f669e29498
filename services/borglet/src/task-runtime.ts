// What the borglet asks of whatever runs its tasks. The agent itself (the epoch fence, the
// command queue, the event outbox, heartbeats, health and memory pressure) is the same code
// on a real machine and on a simulated one; only this part differs (kubemark's idea: the real
// kubelet over a fake runtime).
import type { Lease } from "@corral/contracts";
import type { Logger } from "@corral/kit";
import type { TaskExit } from "./host-task.js";
import type { CgroupUsage } from "./runtime/cgroups.js";

/** A task as the borglet sees it, whatever runs it. */
export interface RunningTask {
  readonly lease: Lease;
  /** undefined until the task has started */
  readonly pid: number | undefined;
  readonly terminating: boolean;
  /** stops the task: its grace period, then a kill; `revoked` when its master took it back */
  stop(gracePeriodMs: number, revoked: boolean): void;
  /** runs an exec health check beside the task */
  exec(command: readonly string[], timeoutMs: number): Promise<{ exitCode: number | null; output: string }>;
  /** measured use, where the runtime can measure it (containers) */
  usage?(): CgroupUsage | undefined;
}

/** What a task tells its borglet as it starts, fails to start, or exits. */
export interface TaskLifecycle {
  started(pid: number): void;
  failed(message: string): void;
  exited(exit: TaskExit): void;
}

export interface TaskLog {
  text: string;
  size: number;
  truncated: boolean;
  start: number;
}

export interface TaskRuntime {
  /** whether tasks' health checks are run: a simulated task has nothing to answer them */
  readonly checksHealth: boolean;
  /**
   * Once, before the first lease: prepares the runtime and returns the tasks a previous run
   * of this borglet left running, taken on again (their exits reported through `exited`).
   */
  open(tasks: () => Iterable<[string, RunningTask]>, exited: (task: RunningTask, exit: TaskExit) => void): RunningTask[];
  /** Starts a run of the lease's task, or says why it cannot. */
  start(lease: Lease, log: Logger, lifecycle: TaskLifecycle): RunningTask | { failed: string };
  /** a task's captured output; undefined where tasks write none */
  readonly readLog?: (taskId: string, stream: "stdout" | "stderr", tailBytes: number, from?: number) => Promise<TaskLog>;
  close(): void;
}
