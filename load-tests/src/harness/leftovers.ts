import { execFile } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { findExecutable } from "@corral/launcher";

const run = promisify(execFile);

/** A runc container: its state directory (one per borglet) and its id. */
export interface Container {
  root: string;
  id: string;
}

/** What a cell of real borglets may leave behind on the host once its processes are stopped. */
export interface Leftovers {
  containers: Container[];
  /** mount points under the cell's directory (task overlays), deepest first */
  mounts: string[];
}

/** Mount points from /proc/mounts (its fields escape space, tab, newline and backslash in octal). */
export function mountPointsUnder(procMounts: string, dir: string): string[] {
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return procMounts
    .split("\n")
    .map((line) => line.split(" ")[1])
    .filter((field): field is string => field !== undefined && field !== "")
    .map((field) => field.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((point) => point.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

function runcRoots(dir: string): string[] {
  const borglets = join(dir, "borglets");
  if (!existsSync(borglets)) return [];
  return readdirSync(borglets)
    .map((name) => join(borglets, name, "runc"))
    .filter((root) => existsSync(root));
}

/** Containers in the cell's borglets' runc state directories, and mounts under the cell's directory. */
export async function findLeftovers(dir: string): Promise<Leftovers> {
  const containers: Container[] = [];
  const runc = findExecutable("runc");
  if (runc !== undefined) {
    for (const root of runcRoots(dir)) {
      const { stdout } = await run(runc, ["--root", root, "list", "--quiet"]);
      for (const id of stdout.split("\n").filter((line) => line.trim() !== "")) containers.push({ root, id: id.trim() });
    }
  }
  return { containers, mounts: mountPointsUnder(readFileSync("/proc/mounts", "utf8"), dir) };
}

/** Deletes leftover containers (their processes with them) and unmounts leftover overlays; returns what is still there. */
export async function removeLeftovers(dir: string, found: Leftovers): Promise<Leftovers> {
  const runc = findExecutable("runc");
  for (const container of found.containers) {
    if (runc !== undefined) await run(runc, ["--root", container.root, "delete", "--force", container.id]).catch(() => {});
  }
  for (const point of found.mounts) {
    await run("umount", [point]).catch(() => run("umount", ["--lazy", point]).catch(() => {}));
  }
  return findLeftovers(dir);
}

/** Resident memory of a process in bytes, from /proc; undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Proportional set size of a process in bytes: its resident pages, each shared one divided
 * by the number of processes that map it (so 50 copies of one binary count it once), from
 * /proc; undefined once it is gone.
 */
export function pssBytes(pid: number): number | undefined {
  try {
    const kib = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/** The `runc run` processes supervising containers whose state is under `dir` (one per running container). */
export function runcSupervisors(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const at = args.indexOf("--root");
      if (at < 0 || args[0]?.endsWith("runc") !== true || !args.includes("run")) continue;
      if (args[at + 1]?.startsWith(`${dir}/`) === true) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}
