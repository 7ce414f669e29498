import { execFile } from "node:child_process";
import { rmSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Lease } from "@corral/contracts";
import { unmountRootfs } from "@corral/images";
import { isSameProcessAlive } from "@corral/kit";
import { execForCheck } from "./exec-check.js";
import { execInContainer } from "./runtime/exec-in-container.js";
import { terminate } from "./task-process.js";
import type { TaskExit } from "./host-task.js";
import { TaskCgroup, type CgroupUsage } from "./runtime/cgroups.js";
import type { IsolatedRuntime } from "./runtime/isolated-runtime.js";
import { removeTaskRecordIfOurs, type TaskRecordFile } from "./task-record.js";
import type { TaskPidsCgroup } from "./task-pids-cgroup.js";

const run = promisify(execFile);
/** An adopted task is not our child, so its end is noticed by looking: this often. */
const WATCH_MS = 250;

/**
 * A task a previous run of this borglet started and left running (Borg keeps tasks running
 * while the agent restarts). It is reported again as running; the leader then keeps it, or
 * revokes it if it no longer wants it there. Its exit status is not ours to read, so its
 * end is reported without one.
 */
export class AdoptedTask {
  readonly lease: Lease;
  readonly pid: number;
  private stopping: { revoked: boolean; killTimer?: NodeJS.Timeout } | undefined;
  private readonly watcher: NodeJS.Timeout;
  private readonly cgroup: TaskCgroup | undefined;
  private readonly watched: { pid: number; startTime: number };

  constructor(
    private readonly record: TaskRecordFile,
    private readonly recordPath: string,
    private readonly runtime: IsolatedRuntime | undefined,
    onExit: (exit: TaskExit) => void,
    /** a host task's pids cgroup, which holds every process it forked */
    private readonly pids?: TaskPidsCgroup,
    /** a host run's sandbox, removed when it ends as its borglet would have removed it */
    private readonly sandbox?: string,
  ) {
    this.lease = record.lease;
    this.pid = record.container?.pid ?? record.pid;
    this.watched = record.container === undefined ? { pid: record.pid, startTime: record.startTime } : { pid: record.container.pid, startTime: record.container.startTime };
    this.cgroup = record.container !== undefined && runtime !== undefined ? new TaskCgroup(runtime.cgroupVersion, record.container.cgroupPath) : undefined;
    this.watcher = setInterval(() => {
      if (isSameProcessAlive(this.watched)) return;
      clearInterval(this.watcher);
      if (this.stopping?.killTimer !== undefined) clearTimeout(this.stopping.killTimer);
      void this.finish().then((exit) => onExit(exit));
    }, WATCH_MS);
  }

  get terminating(): boolean {
    return this.stopping !== undefined;
  }

  usage(): CgroupUsage | undefined {
    return this.cgroup?.usage();
  }

  exec(command: readonly string[], timeoutMs: number): Promise<{ exitCode: number | null; output: string }> {
    const container = this.record.container;
    if (container === undefined || this.runtime === undefined) return execForCheck(command[0]!, command.slice(1), timeoutMs, undefined, undefined, runningAs(this.record.pid));
    return execInContainer(this.runtime, container.id, container.bundle, command, timeoutMs);
  }

  stop(gracePeriodMs: number, revoked: boolean): void {
    if (this.stopping !== undefined) return;
    this.stopping = { revoked, killTimer: terminate((signal) => this.signal(signal), gracePeriodMs) };
  }

  /** Host tasks: their process group (and at SIGKILL, all in their cgroup); containers: their init (its pid namespace dies with it). */
  private signal(signal: NodeJS.Signals): void {
    if (signal === "SIGKILL" && this.pids !== undefined) void this.pids.killAllAndRemove();
    if (!isSameProcessAlive(this.watched)) return;
    try {
      process.kill(this.record.container === undefined ? -this.record.pid : this.record.container.pid, signal);
    } catch {
      // already gone
    }
  }

  /** A container's leftovers (runc's state, the overlay, the bundle) go with it. */
  private async finish(): Promise<TaskExit> {
    const exit: TaskExit = { revoked: this.stopping?.revoked ?? false };
    const container = this.record.container;
    if (container !== undefined && this.runtime !== undefined) {
      if ((this.cgroup?.oomKills() ?? 0) > 0) exit.oom = true;
      await run(this.runtime.runc, ["--root", this.runtime.runcRoot, "delete", "--force", container.id]).catch(() => {});
      if (this.lease.alloc !== undefined) this.runtime.allocCgroups.removeIfEmpty(this.lease.alloc);
      await unmountRootfs(join(container.bundle, "fs")).catch(() => {});
      rmSync(container.bundle, { recursive: true, force: true });
    }
    // As for a run of this borglet's own: nothing it started outlives it.
    if (this.pids !== undefined) await this.pids.killAllAndRemove();
    if (this.sandbox !== undefined) rmSync(this.sandbox, { recursive: true, force: true });
    removeTaskRecordIfOurs(this.recordPath, this.record.pid);
    return exit;
  }
}

/** Who a process we did not start runs as, and where: its exec checks run likewise (a task of a user's own uid is checked as that uid, in its sandbox). */
function runningAs(pid: number): { uid: number; gid: number; cwd: string } | undefined {
  try {
    const { uid, gid } = statSync(`/proc/${pid}`);
    return uid === 0 ? undefined : { uid, gid, cwd: readlinkSync(`/proc/${pid}/cwd`) };
  } catch {
    return undefined;
  }
}
