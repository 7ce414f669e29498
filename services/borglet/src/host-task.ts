import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Lease } from "@corral/contracts";
import { processStartTime } from "@corral/kit";
import { substitutePorts } from "@corral/spec";

export interface TaskExit {
  exitCode?: number;
  signal?: string;
  revoked: boolean;
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

/** A newer incarnation of the task may have written the record since: leave that one alone. */
function removeRecordIfOurs(path: string, pid: number): void {
  try {
    const record = JSON.parse(readFileSync(path, "utf8")) as { pid?: unknown };
    if (record.pid === pid) rmSync(path, { force: true });
  } catch {
    // already gone
  }
}

/**
 * A task run as a plain child process (the `host` runtime, Nomad's raw_exec): its own
 * process group so a stop reaches everything it forked, output appended to per-task files,
 * and a record on disk of its pid so the cell can find it even if the borglet dies.
 */
export class HostTask {
  private child: ChildProcess;
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
    const env: NodeJS.ProcessEnv = {
      PATH: process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: process.env["HOME"] ?? "/",
      ...Object.fromEntries(Object.entries(lease.env).map(([key, value]) => [key, substitutePorts(value, lease.ports)])),
      CORRAL_TASK: lease.taskId,
      CORRAL_HOST: host,
      CORRAL_INCARNATION: String(lease.incarnation),
    };
    lease.ports.forEach((port, index) => {
      env[`CORRAL_PORT${index}`] = String(port);
    });
    if (lease.ports[0] !== undefined) env["PORT"] = String(lease.ports[0]);
    const stdout = openSync(paths.stdout, "a");
    const stderr = openSync(paths.stderr, "a");
    try {
      this.child = spawn(binaryPath, args, { detached: true, stdio: ["ignore", stdout, stderr], env });
    } finally {
      closeSync(stdout);
      closeSync(stderr);
    }
    // Without a listener, a spawn failure (ENOENT from a missing interpreter, EMFILE) is
    // emitted again as an uncaught error and would take the borglet down.
    let spawnError: Error | undefined;
    this.child.once("error", (error) => {
      spawnError = error;
    });
    if (this.child.pid === undefined) throw new Error(`could not start ${binaryPath}${spawnError ? `: ${spawnError.message}` : ""}`);
    this.pid = this.child.pid;
    writeFileSync(
      paths.record,
      JSON.stringify({ taskId: lease.taskId, incarnation: lease.incarnation, pid: this.pid, startTime: processStartTime(this.pid) ?? 0 }),
    );
    this.child.once("exit", (code, signal) => {
      if (this.stopping?.killTimer !== undefined) clearTimeout(this.stopping.killTimer);
      removeRecordIfOurs(paths.record, this.pid);
      const exit: TaskExit = { revoked: this.stopping?.revoked ?? false };
      if (signal !== null) exit.signal = signal;
      else if (code !== null) exit.exitCode = code;
      onExit(exit);
    });
  }

  get terminating(): boolean {
    return this.stopping !== undefined;
  }

  /** SIGTERM to the whole process group, SIGKILL after the grace period. */
  stop(gracePeriodMs: number, revoked: boolean): void {
    if (this.stopping !== undefined) return;
    this.stopping = { revoked };
    this.signal("SIGTERM");
    this.stopping.killTimer = setTimeout(() => this.signal("SIGKILL"), gracePeriodMs);
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // already gone
    }
  }
}
