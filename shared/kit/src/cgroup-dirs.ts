import { createHash } from "node:crypto";
import { existsSync, lstatSync, readdirSync, rmdirSync } from "node:fs";
import { join, resolve } from "node:path";

const CGROUP_ROOT = "/sys/fs/cgroup";

/**
 * The cgroup a borglet makes its tasks' cgroups under (relative to each hierarchy). Many
 * borglets may share a host (local cells, concurrent tests, often with the same cell and
 * machine names), so its data directory, which is its alone, is part of the name.
 */
export function borgletCgroupPath(name: string, dataDir: string): string {
  return `/corral/${name}-${createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 8)}`;
}

/**
 * Removes the cgroups at `paths` (relative to each hierarchy), and what is left empty
 * beneath them, in every hierarchy they were made in. One that still holds a process stays;
 * runc removes a container's own cgroup but leaves the ones above it.
 */
export function removeEmptyCgroups(paths: readonly string[], root = CGROUP_ROOT): void {
  for (const hierarchy of cgroupHierarchies(root)) {
    for (const path of paths) removeTree(join(hierarchy, path));
  }
}

function removeTree(dir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch {
    return; // not made in this hierarchy
  }
  for (const child of entries) removeTree(join(dir, child));
  try {
    rmdirSync(dir);
  } catch {
    // a process still lives in it (or beneath it)
  }
}

/** The root itself (cgroup v2) and each controller's own mount (v1), each once. */
export function cgroupHierarchies(root = CGROUP_ROOT): string[] {
  // On v2 the root's directories are cgroups, not hierarchies.
  if (existsSync(join(root, "cgroup.controllers"))) return [root];
  const found: string[] = [];
  try {
    for (const name of readdirSync(root)) {
      const dir = join(root, name);
      // cpu and cpuacct are links to one mount
      if (!lstatSync(dir).isSymbolicLink() && lstatSync(dir).isDirectory()) found.push(dir);
    }
  } catch {
    // no cgroups here
  }
  return found;
}
