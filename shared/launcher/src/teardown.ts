/** Stopping a local cell: its processes, the tasks and containers its borglets left, mounts, cgroups. */
import { execFile } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { borgletCgroupPath, removeEmptyCgroups } from "@corral/kit";
import { cellFilePath, readCellFile, type CellFile } from "./cell-file.js";
import { signalGroup, waitUntil, type StartedProcess } from "./processes.js";
import { isSameProcessAlive } from "@corral/kit";
import { releaseFromStarter } from "./starter-guard.js";
import { HostNetwork } from "./host-network.js";
import { setTimeout as sleep } from "node:timers/promises";

const execFileAsync = promisify(execFile);

/** Task process groups recorded by borglets under `dir/borglets/<name>/tasks/*.json`. */
export function recordedTaskProcesses(dir: string): { pid: number; startTime: number }[] {
  const found: { pid: number; startTime: number }[] = [];
  const borglets = join(dir, "borglets");
  if (!existsSync(borglets)) return found;
  for (const borglet of readdirSync(borglets)) {
    const tasks = join(borglets, borglet, "tasks");
    if (!existsSync(tasks)) continue;
    for (const file of readdirSync(tasks)) {
      try {
        const record = JSON.parse(readFileSync(join(tasks, file), "utf8")) as { pid?: unknown; startTime?: unknown; container?: { pid?: unknown; startTime?: unknown } };
        if (typeof record.pid === "number" && typeof record.startTime === "number") found.push({ pid: record.pid, startTime: record.startTime });
        // A container's init is in a pid namespace of its own, and outlives its supervisor.
        const container = record.container;
        if (typeof container?.pid === "number" && typeof container.startTime === "number") found.push({ pid: container.pid, startTime: container.startTime });
      } catch {
        // a record being written right now; the borglet owns it
      }
    }
  }
  return found;
}

/**
 * Stops exactly what the cell started (each pid checked against its start time, so a
 * reused pid is never signalled): services first with SIGTERM, then SIGKILL after
 * `graceMs`, then the tasks borglets left behind, then redis and nats.
 */
const PROFILE_WRITE_GRACE_MS = 120_000;

export async function stopProcesses(processes: readonly StartedProcess[], dir: string, graceMs = 5000): Promise<void> {
  const services = processes.filter((p) => p.role !== "nats" && p.role !== "redis");
  const servers = processes.filter((p) => p.role === "nats" || p.role === "redis");
  // A profiled process writes its whole cpu profile as it exits: tens of seconds after a long run.
  const grace = process.env["CORRAL_PROFILE_DIR"] ? Math.max(graceMs, PROFILE_WRITE_GRACE_MS) : graceMs;
  const stop = async (group: readonly Pick<StartedProcess, "pid" | "startTime">[]) => {
    for (const p of group) signalGroup(p, "SIGTERM");
    const deadline = Date.now() + grace;
    while (group.some(isSameProcessAlive) && Date.now() < deadline) await sleep(50);
    for (const p of group) signalGroup(p, "SIGKILL");
    await waitUntil("processes to exit", () => !group.some(isSameProcessAlive), 5000).catch(() => {});
  };
  await stop(services);
  await stop(recordedTaskProcesses(dir));
  await removeContainerLeftovers(dir);
  await stop(servers);
}

/**
 * What isolated tasks leave once their processes are gone: runc's state (and with it their
 * cgroups) and their overlay mounts, all under the cell's directory.
 */
async function removeContainerLeftovers(dir: string): Promise<void> {
  const borglets = join(dir, "borglets");
  if (existsSync(borglets)) {
    for (const borglet of readdirSync(borglets)) {
      const root = join(borglets, borglet, "runc");
      if (!existsSync(root)) continue;
      const listed = await execFileAsync("runc", ["--root", root, "list", "-q"]).catch(() => ({ stdout: "" }));
      for (const id of listed.stdout.split("\n").filter((line) => line !== "")) {
        await execFileAsync("runc", ["--root", root, "delete", "--force", id]).catch(() => {});
      }
      // runc leaves the cgroups above its containers: the borglet's own, and its allocs'.
      removeEmptyCgroups([borgletCgroupPath(borglet, join(borglets, borglet))]);
    }
  }
  let mounts = "";
  try {
    mounts = readFileSync("/proc/mounts", "utf8");
  } catch {
    return;
  }
  const under = resolve(dir) + "/";
  const ours = mounts.split("\n").map((line) => line.split(" ")[1] ?? "").filter((point) => point.startsWith(under));
  // Deepest first, so a mount inside another comes off before it.
  for (const point of ours.sort((a, b) => b.length - a.length)) await execFileAsync("umount", ["-l", point]).catch(() => {});
}

/** Stops the cell in `dir` by its cell file (`corral cell down`), and removes the file. */
export async function stopLocalCell(dir: string, graceMs = 5000): Promise<CellFile | undefined> {
  const cell = readCellFile(resolve(dir));
  if (cell === undefined) return undefined;
  await stopProcesses(cell.processes, cell.dir, graceMs);
  await removeHosts(cell);
  rmSync(cellFilePath(cell.dir), { force: true });
  releaseFromStarter(cell.dir);
  return cell;
}

/** A multi-host cell's namespaces, links and bridge, once nothing runs in them. */
async function removeHosts(cell: Pick<CellFile, "network">): Promise<void> {
  if (cell.network !== undefined) await HostNetwork.fromRecord(cell.network).remove();
}

/**
 * Stops a cell this process started, by its own list of the cell's processes, and tells
 * the cell's watchdog (if it is tied to this process) that nothing is left to do.
 */
export async function stopStartedCell(cell: Pick<CellFile, "processes" | "dir" | "network">, graceMs = 5000): Promise<void> {
  await stopProcesses(cell.processes, cell.dir, graceMs);
  await removeHosts(cell);
  releaseFromStarter(cell.dir);
}
