import { readFileSync } from "node:fs";
import { resolveBinary } from "../binaries.js";
import { detectCgroupVersion, type CgroupVersion } from "./cgroups.js";

export type IsolationSupport = { ok: true; runc: string; cgroupVersion: CgroupVersion } | { ok: false; problem: string };

/**
 * Whether this machine can run isolated tasks, and if not, what is missing and how to get
 * it. The host runtime works either way; only jobs with an image need this.
 */
export function checkIsolation(): IsolationSupport {
  if (process.getuid?.() !== 0) {
    return { ok: false, problem: "the isolated runtime needs root (cgroups, namespaces and overlayfs mounts); run the borglet as root, or run the job without image (host runtime)" };
  }
  const runc = resolveBinary("runc", (process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":")).path;
  if (runc === undefined) return { ok: false, problem: "runc is not installed (apt-get install runc)" };
  const cgroupVersion = detectCgroupVersion();
  if (cgroupVersion === undefined) return { ok: false, problem: "no cgroup hierarchy with a memory controller is mounted under /sys/fs/cgroup" };
  let filesystems = "";
  try {
    filesystems = readFileSync("/proc/filesystems", "utf8");
  } catch {
    // reported below
  }
  if (!/\boverlay$/m.test(filesystems)) return { ok: false, problem: "the kernel has no overlayfs (modprobe overlay)" };
  return { ok: true, runc, cgroupVersion };
}
