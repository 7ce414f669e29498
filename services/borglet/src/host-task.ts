import type { ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Lease } from "@corral/contracts";
import { processStartTime } from "@corral/kit";
import { substitutePorts } from "@corral/spec";
import { execForCheck } from "./exec-check.js";
import { spawnLogged, taskEnvironment, terminate } from "./task-process.js";
import { removeTaskRecordIfOurs, writeTaskRecord } from "./task-record.js";

export interface TaskExit {
  exitCode?: number;
  signal?: string;
  /** the kernel killed it for going over its memory limit */
  oom?: true;
  /** with oom: the limit gone over was its alloc's (its tasks together), not its own */
  oomOfAlloc?: true;
  revoked: boolean;
  /** how long it ran, when it started at all */
  ranForMs?: number;
}

export interface TaskPaths {
  stdout: string;
  stderr: string;
  record: string;
}

export function taskPaths(dataDir: string, taskId: string): TaskPaths {
  return {
    stdout: join(dataDir, "logs", `${taskId}.stdout`),
    stderr: join(dataDir, "logs", `${taskId}.stderr`),
    record: join(dataDir, "tasks", `${taskId}.json`),
  };
}


/**
 * A task run as a plain child process (the `host` runtime, Nomad's raw_exec): its own
 * process group so a stop reaches everything it forked, output appended to per-task files,
 * and a record on disk of its pid so the cell can find it even if the borglet dies.
 */
export class HostTask {
  private child: ChildProcess;
  private readonly env: NodeJS.ProcessEnv;
  private stopping: { revoked: boolean; killTimer?: NodeJS.Timeout } | undefined;
  readonly pid: number;

  constructor(
    readonly lease: Lease,
    host: string,
    binaryPath: string,
    private readonly paths: TaskPaths,
    onExit: (exit: TaskExit) => void,
  ) {
    mkdirSync(join(paths.stdout, ".."), { recursive: true });
    mkdirSync(join(paths.record, ".."), { recursive: true });
    const args = lease.args.map((arg) => substitutePorts(arg, lease.ports));
    this.env = { PATH: process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", HOME: process.env["HOME"] ?? "/", ...taskEnvironment(lease, host) };
    const spawned = spawnLogged(binaryPath, args, paths, this.env);
    this.child = spawned.child;
    if (this.child.pid === undefined) {
      const why = spawned.spawnError();
      throw new Error(`could not start ${binaryPath}${why ? `: ${why.message}` : ""}`);
    }
    this.pid = this.child.pid;
    writeTaskRecord(paths.record, { taskId: lease.taskId, incarnation: lease.incarnation, pid: this.pid, startTime: processStartTime(this.pid) ?? 0, lease, runtime: "host" });
    const startedAt = Date.now();
    this.child.once("exit", (code, signal) => {
      if (this.stopping?.killTimer !== undefined) clearTimeout(this.stopping.killTimer);
      removeTaskRecordIfOurs(paths.record, this.pid);
      const exit: TaskExit = { revoked: this.stopping?.revoked ?? false, ranForMs: Date.now() - startedAt };
      if (signal !== null) exit.signal = signal;
      else if (code !== null) exit.exitCode = code;
      onExit(exit);
    });
  }

  get terminating(): boolean {
    return this.stopping !== undefined;
  }

  /** An exec health check runs beside the task, with its environment. */
  exec(command: readonly string[], timeoutMs: number): Promise<{ exitCode: number | null; output: string }> {
    return execForCheck(command[0]!, command.slice(1), timeoutMs, this.env);
  }

  /** SIGTERM to the whole process group, SIGKILL after the grace period. */
  stop(gracePeriodMs: number, revoked: boolean): void {
    if (this.stopping !== undefined) return;
    this.stopping = { revoked, killTimer: terminate((signal) => this.signal(signal), gracePeriodMs) };
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // already gone
    }
  }
}
