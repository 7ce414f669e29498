import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { cgroupHierarchies, removeEmptyCgroups } from "@corral/kit";
import { join } from "node:path";
import type { PriorityBand, Resources } from "@corral/contracts";
import type { CgroupVersion } from "./cgroups.js";
import { cpuShares } from "./oci-config.js";

const CGROUP_ROOT = "/sys/fs/cgroup";
/** What an alloc's cgroup limits, and so what its children must be given on cgroup v2. */
const V2_CONTROLLERS = ["cpu", "memory", "pids"];

/**
 * Borg's allocs on the machine: the tasks of one alloc live in one parent cgroup that holds
 * the alloc's reservation (memory as a hard limit for them together, cpu as the alloc's
 * share), so what they use is measured and bounded as the alloc, beside each task's own
 * limits. The parent is made when the first task of the alloc starts here and removed when
 * the last one has gone (the reservation itself is the scheduler's, and stays).
 */
export class AllocCgroups {
  /** tasks this borglet run started in each alloc and has not yet torn down */
  private readonly members = new Map<string, number>();

  constructor(
    readonly version: CgroupVersion,
    /** the borglet's own cgroup (see IsolatedRuntime.cgroupParent) */
    private readonly parent: string,
    private readonly root = CGROUP_ROOT,
  ) {}

  /** The alloc's cgroup, relative to each hierarchy (what runc's cgroupsPath is relative to). */
  pathOf(alloc: string): string {
    return `${this.parent}/alloc-${alloc}`;
  }

  /**
   * A task of `alloc` is about to start: its parent cgroup exists with the alloc's limits.
   * They are written by the first task in, not by every one: lowering a limit under tasks
   * already running would refuse the write (v1) or kill them (v2).
   */
  enter(alloc: string, size: Resources, band: PriorityBand | undefined): void {
    const members = this.members.get(alloc) ?? 0;
    if (members === 0) {
      const path = this.pathOf(alloc);
      if (this.version === 2) this.makeV2(path, size, band);
      else this.makeV1(path, size, band);
    }
    this.members.set(alloc, members + 1);
  }

  /** A task entered by this run is gone; the last one out removes the alloc's cgroup. */
  leave(alloc: string): void {
    const left = (this.members.get(alloc) ?? 1) - 1;
    if (left > 0) {
      this.members.set(alloc, left);
      return;
    }
    this.members.delete(alloc);
    this.removeIfEmpty(alloc);
  }

  /**
   * An adopted task (started by an earlier run) is gone: its alloc's cgroup goes too unless
   * a task still lives in it (the kernel refuses to remove a cgroup with children).
   */
  removeIfEmpty(alloc: string): void {
    if ((this.members.get(alloc) ?? 0) === 0) removeEmptyCgroups([this.pathOf(alloc)], this.root);
  }

  /** At start: alloc cgroups an earlier run left empty (it died before the last task's teardown). */
  sweepEmpty(): string[] {
    const removed = new Set<string>();
    for (const hierarchy of cgroupHierarchies(this.root)) {
      const dir = join(hierarchy, this.parent);
      let entries: string[] = [];
      try {
        entries = readdirSync(dir).filter((name) => name.startsWith("alloc-"));
      } catch {
        continue;
      }
      for (const name of entries) {
        const alloc = name.slice("alloc-".length);
        if ((this.members.get(alloc) ?? 0) > 0) continue;
        try {
          rmdirSync(join(dir, name));
          removed.add(alloc);
        } catch {
          // a task of it still runs (adopted): it goes when that task does
        }
      }
    }
    return [...removed];
  }

  private makeV1(path: string, size: Resources, band: PriorityBand | undefined): void {
    const memory = join(this.root, "memory", path);
    mkdirSync(memory, { recursive: true });
    writeFileSync(join(memory, "memory.limit_in_bytes"), String(size.ram));
    const cpu = join(this.root, "cpu", path);
    mkdirSync(cpu, { recursive: true });
    writeFileSync(join(cpu, "cpu.shares"), String(cpuShares(size.cpu, band)));
  }

  private makeV2(path: string, size: Resources, band: PriorityBand | undefined): void {
    // A cgroup's limits can be set only where its parent hands the controller down.
    const levels = path.split("/").filter((part) => part !== "");
    let dir = this.root;
    for (const level of levels) {
      const available = readFileSync(join(dir, "cgroup.controllers"), "utf8").trim().split(/\s+/);
      // One at a time, and a refusal is not fatal (as runc does): the limits below say whether it mattered.
      for (const controller of V2_CONTROLLERS.filter((name) => available.includes(name))) {
        try {
          writeFileSync(join(dir, "cgroup.subtree_control"), `+${controller}`);
        } catch {
          // e.g. cpu with real-time threads about; memory.max or cpu.weight below then fails, naming the file
        }
      }
      dir = join(dir, level);
      mkdirSync(dir, { recursive: true });
    }
    writeFileSync(join(dir, "memory.max"), String(size.ram));
    // runc's own mapping of cpu shares (2…262144) onto cgroup v2 weights (1…10000).
    const shares = cpuShares(size.cpu, band);
    writeFileSync(join(dir, "cpu.weight"), String(1 + Math.floor(((shares - 2) * 9999) / 262_142)));
  }
}
