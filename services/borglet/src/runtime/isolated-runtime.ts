// What a machine provides for running tasks in containers, as main.ts sets it up once and every
// isolated task, adopted container and leftover sweep shares it. Apart from IsolatedTask so that
// those can name the runtime without depending on the task's lifecycle.
import type { CommandRunner, IdShift } from "@corral/images";
import type { ContainerIds } from "../task-uids.js";
import type { CgroupVersion } from "./cgroups.js";
import type { AllocCgroups } from "./alloc-cgroups.js";
import type { StartGate } from "../start-gate.js";
import type { OciSeccomp } from "./seccomp-profile.js";

/** A root filesystem made ready for one task, and how to take it down again. */
export interface PreparedRoot {
  rootfs: string;
  /** the image's own environment (`KEY=value`) and working directory, when it has them */
  env: string[];
  workingDir?: string;
  /** the image's USER, as its config gives it (a name, uid, name:group or uid:gid) */
  user?: string;
  release(): Promise<void>;
}

/**
 * A task's root file system from its image (fetching layers as needed); commands it needs
 * (mount, umount, cp) are run with `run`. With `shift`, its files are owned by the ids of the
 * container's user namespace.
 */
export type RootfsProvider = (image: string, taskDir: string, run: CommandRunner, shift?: IdShift) => Promise<PreparedRoot>;

export interface IsolatedRuntime {
  runc: string;
  /** machine directories under which jobs may mount host volumes (`--host-volumes`); none: host volumes refused */
  hostVolumeDirs: readonly string[];
  /** runc's state directory for this borglet, so borglets sharing a host keep apart */
  runcRoot: string;
  cgroupVersion: CgroupVersion;
  /** this borglet's cgroup, under which its tasks' are made: its own, though many borglets share a host */
  cgroupParent: string;
  /** the parent cgroups of tasks that run in allocs */
  allocCgroups: AllocCgroups;
  prepareRoot: RootfsProvider;
  /** container starts at once on this borglet: the rest wait their turn (see StartGate) */
  starts: StartGate;
  /** each user's block of host ids, onto which their containers' user namespaces map; undefined only when the operator asked for none (--container-uids none) */
  containerIds: ContainerIds | undefined;
  /** the seccomp filter every container runs under; undefined only when the operator asked for none (--seccomp-profile unconfined) */
  seccomp: OciSeccomp | undefined;
}
