import { readFileSync } from "node:fs";
import type { PriorityBand } from "@corral/contracts";
import type { OciSeccomp } from "./seccomp-profile.js";
import type { ContainerUser } from "./image-user.js";
import type { IdShift } from "@corral/images";

/** What a task's container is made of; the rest is the same for every task. */
export interface ContainerShape {
  rootfs: string;
  hostname: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  cgroupsPath: string;
  cpu: number;
  ramBytes: number;
  band: PriorityBand | undefined;
  /** bind mounts: a machine directory (a host path or a named volume's directory) at a path in the container */
  binds: { source: string; destination: string; readOnly: boolean }[];
  /** who its process runs as: the image's USER (image-user.ts) */
  user: ContainerUser;
  /** its user namespace: container ids 0…size-1 are host ids offset…; none: an admin's job asked to run as the machine's root */
  idMap: IdShift | undefined;
  /** the system calls it may make (seccomp-profile.ts); none: the machine chose to run containers unconfined */
  seccomp: OciSeccomp | undefined;
}

/** The image's own search path when it sets none, as Docker's default. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const PIDS_LIMIT = 4096;
const NOFILE_WANTED = 65536;

/** A container may not be given more open files than the borglet itself may have. */
function nofileLimit(): number {
  try {
    const hard = /^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"))?.[1];
    return hard === undefined || hard === "unlimited" ? NOFILE_WANTED : Math.min(NOFILE_WANTED, Number(hard));
  } catch {
    return 1024;
  }
}
const NOFILE_LIMIT = nofileLimit();
/** cpu.shares per core asked for (the kernel's default weight of one process is 1024). */
const SHARES_PER_CORE = 1024;
/**
 * Borg's performance isolation: latency-sensitive work wins the cpu when the machine is
 * contended. Shares only matter under contention, so idle cycles still go to batch work.
 */
const BAND_SHARE_WEIGHT: Readonly<Record<PriorityBand, number>> = { monitoring: 4, production: 4, batch: 1, "best-effort": 1 };

/** The cpu.shares of `cpu` cores of work in `band` (no band: batch), within the kernel's bounds. */
export function cpuShares(cpu: number, band: PriorityBand | undefined): number {
  return Math.max(2, Math.min(262_144, Math.round(cpu * SHARES_PER_CORE * BAND_SHARE_WEIGHT[band ?? "batch"])));
}

/** What a container's root keeps of root's powers: fewer than Docker's default set. */
export const CAPABILITIES = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/**
 * An OCI runtime config for runc: user, pid, mount, uts and ipc namespaces (the host's
 * network, so the task listens on the ports its lease gives it), the task's name as hostname,
 * cgroup limits (memory as a hard limit, cpu as shares, pids), the kernel interfaces a
 * container must not touch masked or read-only, few capabilities, no new privileges, and a
 * seccomp filter.
 */
export function ociConfig(shape: ContainerShape): object {
  const shares = cpuShares(shape.cpu, shape.band);
  const idMap = shape.idMap === undefined ? undefined : [{ containerID: 0, hostID: shape.idMap.offset, size: shape.idMap.size }];
  // A user namespace may not mount a sysfs for the host's network namespace, which it does not
  // own; the host's is bound in read-only instead, as rootless containers with the host's
  // network have it.
  const sys = idMap === undefined
    ? { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] }
    : { destination: "/sys", type: "bind", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"] };
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: shape.user.uid, gid: shape.user.gid },
      args: shape.args,
      env: Object.entries(shape.env).map(([key, value]) => `${key}=${value}`),
      cwd: shape.cwd,
      capabilities: { bounding: CAPABILITIES, effective: CAPABILITIES, permitted: CAPABILITIES },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: NOFILE_LIMIT, soft: NOFILE_LIMIT }],
      noNewPrivileges: true,
    },
    root: { path: shape.rootfs, readonly: false },
    hostname: shape.hostname,
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      sys,
      { destination: "/etc/resolv.conf", type: "bind", source: "/etc/resolv.conf", options: ["rbind", "ro"] },
      ...shape.binds.map((bind) => ({ destination: bind.destination, type: "bind", source: bind.source, options: ["rbind", bind.readOnly ? "ro" : "rw"] })),
    ],
    linux: {
      resources: {
        devices: [{ allow: false, access: "rwm" }],
        memory: { limit: shape.ramBytes },
        cpu: { shares },
        pids: { limit: PIDS_LIMIT },
      },
      cgroupsPath: shape.cgroupsPath,
      namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, ...(idMap === undefined ? [] : [{ type: "user" }])],
      ...(idMap === undefined ? {} : { uidMappings: idMap, gidMappings: idMap }),
      ...(shape.seccomp === undefined ? {} : { seccomp: shape.seccomp }),
      maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}
