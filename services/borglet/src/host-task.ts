import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Lease } from "@corral/contracts";
import { isSameProcessAlive, processStartTime } from "@corral/kit";
import { substitutePorts } from "@corral/spec";
import { execForCheck } from "./exec-check.js";
import type { Spawner } from "./spawner.js";
import type { TaskPidsCgroup } from "./task-pids-cgroup.js";
import { taskEnvironment, terminate } from "./task-process.js";
import { removeTaskRecordIfOurs } from "./task-record.js";

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

/** A run's sandbox: its own per run (the next run of the task starts from an empty one, even while this one is still being stopped). */
export function sandboxOf(dataDir: string, taskId: string, incarnation: number): string {
  return join(dataDir, "sandboxes", `${taskId}-${incarnation}`);
}

/** Who a host task runs as when not as the borglet itself: its owner's uid and gid here, with a sandbox (its home and working directory) that is theirs alone. */
export interface RunAs {
  user: string;
  uid: number;
  gid: number;
  sandbox: string;
}


/** What a host task tells its borglet. */
export interface HostTaskEvents {
  started(pid: number): void;
  failed(message: string): void;
  exited(exit: TaskExit): void;
}

/** A task whose spawn helper died: its end is noticed by looking, this often. */
const WATCH_LOST_MS = 250;

/**
 * A task run as a plain child process (the `host` runtime, Nomad's raw_exec): its own
 * process group so a stop reaches everything it forked, output appended to per-task files,
 * and a record on disk of its pid so the cell can find it even if the borglet dies. It is
 * spawned through the borglet's spawner, so it starts when its turn in the start queue
 * comes (reported as starting until then).
 */
export class HostTask {
  private readonly env: NodeJS.ProcessEnv;
  private stopping: { revoked: boolean; gracePeriodMs: number; killTimer?: NodeJS.Timeout } | undefined;
  private pidStartTime = -1;
  /** a stop signal reached the process while it lived */
  private signalled = false;
  private readonly cancelSpawn: () => boolean;
  private startedAt = 0;
  private ended = false;
  pid: number | undefined;

  constructor(
    readonly lease: Lease,
    host: string,
    binaryPath: string,
    private readonly paths: TaskPaths,
    spawner: Spawner,
    private readonly events: HostTaskEvents,
    private readonly runAs?: RunAs,
    /** its own pids cgroup (with the machine's limit), which holds every process it forks */
    private readonly pids?: TaskPidsCgroup,
    /** util-linux's setpriv, which starts it with no_new_privs: a setuid file it runs gives it nothing */
    setpriv?: string,
  ) {
    const taskArgs = lease.args.map((arg) => substitutePorts(arg, lease.ports));
    // setpriv sets the flag and execs the task in place: the pid is the task's own.
    const [file, args] = setpriv === undefined ? [binaryPath, taskArgs] : [setpriv, ["--no-new-privs", "--", binaryPath, ...taskArgs]];
    const home = runAs === undefined ? { HOME: process.env["HOME"] ?? "/" } : { HOME: runAs.sandbox, USER: runAs.user, LOGNAME: runAs.user };
    this.env = { PATH: process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", ...home, ...taskEnvironment(lease, host) };
    const record = { path: paths.record, fields: { taskId: lease.taskId, incarnation: lease.incarnation, lease, runtime: "host" as const } };
    const identity = runAs === undefined ? {} : { uid: runAs.uid, gid: runAs.gid, sandbox: runAs.sandbox };
    this.cancelSpawn = spawner.spawn(
      { file, args, env: this.env, stdout: paths.stdout, stderr: paths.stderr, record, ...identity, ...(pids === undefined ? {} : { pidsCgroup: pids.request() }) },
      {
        spawned: (pid) => this.spawned(pid),
        failed: (message) => {
          this.ended = true;
          pids?.remove();
          this.events.failed(`could not start ${binaryPath}: ${message}`);
        },
        exited: (code, signal) => {
          // Stopped only if a stop signal reached it alive: a run that had ended before the stop came (its
          // exit not yet read, as after a freeze) finished on its own, and its exit 0 may finish the task.
          const exit: TaskExit = { revoked: (this.stopping?.revoked ?? false) && this.signalled, ranForMs: Date.now() - this.startedAt };
          if (signal !== null) exit.signal = signal;
          else if (code !== null) exit.exitCode = code;
          this.end(exit);
        },
        lost: () => this.watchLost(),
      },
    ).cancel;
  }

  get terminating(): boolean {
    return this.stopping !== undefined;
  }

  /** An exec health check runs beside the task, with its environment. */
  exec(command: readonly string[], timeoutMs: number): Promise<{ exitCode: number | null; output: string }> {
    return execForCheck(command[0]!, command.slice(1), timeoutMs, this.env, undefined, this.runAs === undefined ? undefined : { uid: this.runAs.uid, gid: this.runAs.gid, cwd: this.runAs.sandbox });
  }

  /** SIGTERM to the whole process group, SIGKILL after the grace period; a task still queued is never started. */
  stop(gracePeriodMs: number, revoked: boolean): void {
    if (this.stopping !== undefined || this.ended) return;
    this.stopping = { revoked, gracePeriodMs };
    if (this.pid !== undefined) {
      this.stopping.killTimer = terminate((signal) => this.signal(signal), gracePeriodMs);
      return;
    }
    // Still in the start queue: take it out. Otherwise the helper is spawning it; the stop follows the spawn.
    if (this.cancelSpawn()) setImmediate(() => this.end({ revoked }));
  }

  private spawned(pid: number): void {
    this.pid = pid;
    this.pidStartTime = processStartTime(pid) ?? -1;
    this.startedAt = Date.now();
    this.events.started(pid);
    // A stop asked for while it waited is carried out now, grace and all.
    if (this.stopping !== undefined) this.stopping.killTimer = terminate((signal) => this.signal(signal), this.stopping.gracePeriodMs);
  }

  private end(exit: TaskExit): void {
    if (this.ended) return;
    this.ended = true;
    if (this.stopping?.killTimer !== undefined) clearTimeout(this.stopping.killTimer);
    // Nothing it started outlives the run: what it forked and left (a daemon, a fork bomb) dies with it.
    if (this.pids !== undefined) void this.pids.killAllAndRemove();
    // The sandbox lives as long as the run: the next incarnation starts from an empty one.
    if (this.runAs !== undefined) void rm(this.runAs.sandbox, { recursive: true, force: true }).catch(() => {});
    this.events.exited(exit);
  }

  /** Without the helper its exit status is lost: watch the process as an adopted task is watched, and report the end without one. */
  private watchLost(): void {
    const pid = this.pid!;
    const watched = { pid, startTime: processStartTime(pid) ?? -1 };
    const watcher = setInterval(() => {
      if (isSameProcessAlive(watched)) return;
      clearInterval(watcher);
      removeTaskRecordIfOurs(this.paths.record, pid);
      this.end({ revoked: this.stopping?.revoked ?? false, ranForMs: Date.now() - this.startedAt });
    }, WATCH_LOST_MS);
  }

  private signal(signal: NodeJS.Signals): void {
    // A kill reaches every process in its cgroup, those that left its process group (setsid) too.
    if (signal === "SIGKILL" && this.pids !== undefined) void this.pids.killAllAndRemove();
    // Only the group of the process as it was spawned: once it is gone its pid may lead another group.
    if (this.pid === undefined || !isSameProcessAlive({ pid: this.pid, startTime: this.pidStartTime })) return;
    try {
      process.kill(-this.pid, signal);
      this.signalled = true;
    } catch {
      // already gone
    }
  }
}
