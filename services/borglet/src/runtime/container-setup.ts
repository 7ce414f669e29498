// What a task's container is given from this machine: the job's volumes as bind mounts, with the
// checks that keep a job from mounting what it must not, and its environment. Apart from
// IsolatedTask because these are the machine's rules for containers, not steps of a task's life.
import { chownSync, existsSync, mkdirSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { parseTaskId, type Lease } from "@corral/contracts";
import { taskEnvironment } from "../task-process.js";

/**
 * The job's volumes as bind mounts: a host directory must exist on this machine; a named
 * volume is a directory the borglet keeps per user and name, made on first use (owned by
 * `owner`, who the container runs as) and kept across the task's restarts here. A string says why they cannot be mounted.
 */
export function volumeBinds(lease: Lease, hostVolumeDirs: readonly string[], node: string, dataDir: string, owner: { uid: number; gid: number }): { source: string; destination: string; readOnly: boolean }[] | string {
  const user = parseTaskId(lease.taskId)?.user ?? lease.taskId;
  const binds: { source: string; destination: string; readOnly: boolean }[] = [];
  for (const volume of lease.volumes ?? []) {
    if (volume.host !== undefined) {
      if (!existsSync(volume.host)) return `volume ${volume.path}: host directory ${volume.host} does not exist on ${node}`;
      // Any job could otherwise mount /etc, or other users' volumes, read-write as root. The
      // check is on where the path really leads: a symbolic link or '..' under an allowed
      // directory must not reach outside it. What is mounted is that resolved path.
      const real = realpathSync(volume.host);
      const allowed = hostVolumeDirs.some((dir) => {
        const root = existsSync(dir) ? realpathSync(dir) : dir;
        return real === root || real.startsWith(`${root.replace(/\/$/, "")}/`);
      });
      if (!allowed) {
        const dirs = hostVolumeDirs.length === 0 ? "none" : hostVolumeDirs.join(", ");
        const resolved = real === volume.host ? "" : ` (it leads to ${real})`;
        return `volume ${volume.path}: host directory ${volume.host}${resolved} is not under the directories ${node} lets jobs mount (--host-volumes: ${dirs}); use a named volume, or ask the machine's operator`;
      }
      binds.push({ source: real, destination: volume.path, readOnly: volume.readOnly });
      continue;
    }
    const source = join(dataDir, "volumes", user, volume.volume!);
    if (!existsSync(source)) {
      // Made by the borglet, owned by whom the container runs as: its root in a user namespace
      // is not the machine's root, and could not write to a volume root owned.
      mkdirSync(join(source, ".."), { recursive: true, mode: 0o711 });
      mkdirSync(source, { mode: 0o700 });
      chownSync(source, owner.uid, owner.gid);
    }
    binds.push({ source, destination: volume.path, readOnly: volume.readOnly });
  }
  return binds;
}

/** The image's environment, then the search path and hostname, then what every task is given (the task's own win). */
export function containerEnvironment(lease: Lease, host: string, imageEnv: string[], path: string): Record<string, string> {
  const fromImage = Object.fromEntries(imageEnv.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
  return { ...fromImage, PATH: path, HOSTNAME: lease.taskId, ...taskEnvironment(lease, host) };
}
