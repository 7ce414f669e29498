import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export type CgroupVersion = 1 | 2;

const CGROUP_ROOT = "/sys/fs/cgroup";

/**
 * Which cgroup hierarchy the machine runs: v2 when the root is the unified hierarchy itself
 * (it has cgroup.controllers), v1 when the controllers are mounted one by one beneath it
 * (hybrid systems included, whose unified mount carries no controllers).
 */
export function detectCgroupVersion(root = CGROUP_ROOT): CgroupVersion | undefined {
  if (existsSync(join(root, "cgroup.controllers"))) return 2;
  if (existsSync(join(root, "memory", "memory.limit_in_bytes"))) return 1;
  return undefined;
}

export interface CgroupUsage {
  /** cpu time used since the task started, in seconds */
  cpuSeconds: number;
  /** memory in use now, in bytes */
  ramBytes: number;
}

/**
 * Reads what one task's cgroup (as runc made it from the task's cgroupsPath) has used, and
 * whether the kernel killed anything in it for going over its memory limit. runc writes the
 * limits; the borglet only reads, so the two cgroup versions differ only in file names.
 */
export class TaskCgroup {
  constructor(
    readonly version: CgroupVersion,
    /** the path runc was given, e.g. /corral/borglet-0/0.web.alice.local-3 */
    readonly path: string,
    private readonly root = CGROUP_ROOT,
  ) {}

  usage(): CgroupUsage | undefined {
    try {
      // Page cache the kernel can drop at once is not memory the task holds.
      if (this.version === 2) {
        const stat = this.read("", "cpu.stat");
        const usec = Number(/^usage_usec (\d+)$/m.exec(stat)?.[1] ?? 0);
        const inactive = Number(/^inactive_file (\d+)$/m.exec(this.read("", "memory.stat"))?.[1] ?? 0);
        return { cpuSeconds: usec / 1e6, ramBytes: Math.max(0, Number(this.read("", "memory.current")) - inactive) };
      }
      const inactive = Number(/^total_inactive_file (\d+)$/m.exec(this.read("memory", "memory.stat"))?.[1] ?? 0);
      return { cpuSeconds: Number(this.read("cpuacct", "cpuacct.usage")) / 1e9, ramBytes: Math.max(0, Number(this.read("memory", "memory.usage_in_bytes")) - inactive) };
    } catch {
      return undefined; // not created yet, or already removed
    }
  }

  /** How many processes the kernel's OOM killer took in this cgroup. */
  oomKills(): number {
    try {
      const text = this.version === 2 ? this.read("", "memory.events") : this.read("memory", "memory.oom_control");
      return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);
    } catch {
      return 0;
    }
  }

  /**
   * Whether the task reached its own memory limit: when the kernel OOM-killed it without
   * that, an ancestor's limit (its alloc's) is what was gone over.
   */
  hitOwnMemoryLimit(): boolean {
    try {
      if (this.version === 2) return Number(/^max (\d+)$/m.exec(this.read("", "memory.events"))?.[1] ?? 0) > 0;
      return Number(this.read("memory", "memory.failcnt")) > 0;
    } catch {
      return true; // unknown: say what is most likely
    }
  }

  private read(controller: string, file: string): string {
    return readFileSync(join(this.root, controller, this.path, file), "utf8").trim();
  }
}
