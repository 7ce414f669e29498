// A host task's own pids cgroup: a ceiling on the processes and threads it may have, so a
// fork bomb stops at its limit instead of filling the machine's process table, and a way to
// find every process of the task, however it forked or daemonized, when it must stop.
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CgroupVersion } from "./runtime/cgroups.js";

const CGROUP_ROOT = "/sys/fs/cgroup";
/** How often a kill sweeps the cgroup again, this far apart: what forked between a read and its kill is found by the next read, and a killed process takes a moment to leave. */
const KILL_ROUNDS = 100;
const KILL_ROUND_MS = 20;

/** Where host tasks' pids cgroups go, and their limit. */
export interface TaskPidsLimit {
  version: CgroupVersion;
  /** the borglet's own cgroup (borgletCgroupPath), relative to the hierarchy */
  parent: string;
  /** processes and threads one task may have at once */
  max: number;
  root?: string;
}

/** What the spawn helper is asked to do: make the cgroup, set its limit, and fork the task inside it. */
export interface PidsCgroupRequest {
  /** the cgroup's directory */
  dir: string;
  /** the hierarchy's mount: the helper finds its own cgroup there to return to */
  hierarchy: string;
  /** the controller's name in /proc/self/cgroup: "pids" on v1, "" on v2 */
  controller: string;
  pidsMax: number;
}

export class TaskPidsCgroup {
  readonly dir: string;
  private readonly hierarchy: string;

  constructor(
    private readonly limit: TaskPidsLimit,
    taskId: string,
    incarnation: number,
  ) {
    const root = limit.root ?? CGROUP_ROOT;
    this.hierarchy = limit.version === 2 ? root : join(root, "pids");
    // Each run its own: a run still being killed never shares one with the next.
    this.dir = join(this.hierarchy, limit.parent, `task-${taskId}-${incarnation}`);
  }

  /**
   * Lets the cgroup's controller reach the borglet's cgroup (v2 hands a controller down only
   * where each parent enables it); once per borglet, before any task.
   */
  static prepare(limit: TaskPidsLimit): void {
    const root = limit.root ?? CGROUP_ROOT;
    if (limit.version === 1) {
      mkdirSync(join(root, "pids", limit.parent), { recursive: true });
      TaskPidsCgroup.sweepEmpty(join(root, "pids", limit.parent));
      return;
    }
    let dir = root;
    for (const level of limit.parent.split("/").filter((part) => part !== "")) {
      writeFileSync(join(dir, "cgroup.subtree_control"), "+pids");
      dir = join(dir, level);
      mkdirSync(dir, { recursive: true });
    }
    writeFileSync(join(dir, "cgroup.subtree_control"), "+pids");
    TaskPidsCgroup.sweepEmpty(dir);
  }

  /** Cgroups of runs an earlier borglet saw end but could not remove (it died first); those of adopted runs still hold processes, and stay. */
  private static sweepEmpty(parent: string): void {
    for (const name of readdirSync(parent)) {
      if (!name.startsWith("task-")) continue;
      try {
        rmdirSync(join(parent, name));
      } catch {
        // a run of it lives on (adopted)
      }
    }
  }

  request(): PidsCgroupRequest {
    return { dir: this.dir, hierarchy: this.hierarchy, controller: this.limit.version === 2 ? "" : "pids", pidsMax: this.limit.max };
  }

  /** The task's processes now (empty once the cgroup is gone). */
  pids(): number[] {
    try {
      return readFileSync(join(this.dir, "cgroup.procs"), "utf8").split("\n").filter((line) => line !== "").map(Number);
    } catch {
      return [];
    }
  }

  /**
   * SIGKILL to every process of the task, read again until none is left, then the cgroup
   * goes; whether it did. A task's processes die with it, as in Borg: none outlives its run.
   */
  async killAllAndRemove(): Promise<boolean> {
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const pids = this.pids();
      if (pids.length === 0 && this.remove()) return true;
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone already
        }
      }
      await new Promise((resolve) => setTimeout(resolve, KILL_ROUND_MS));
    }
    return false;
  }

  /** Removes the cgroup if nothing lives in it any more (the kernel refuses otherwise). */
  remove(): boolean {
    try {
      rmdirSync(this.dir);
      return true;
    } catch {
      return false;
    }
  }
}
