import { execFile } from "node:child_process";
import { chown, readFile, mkdir, realpath, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { ImageError, messageOf } from "../errors.js";

const execFileAsync = promisify(execFile);

/**
 * Runs a short command (mount, umount) to its end; rejects when it fails, with what it
 * said on stderr as the error's `stderr`. The default forks from the caller; a borglet
 * passes one that runs the command from its small spawn helper instead, since a fork copies
 * the caller's page tables.
 */
export type CommandRunner = (file: string, args: readonly string[], options: { cwd?: string }) => Promise<void>;

const forkFromHere: CommandRunner = async (file, args, options) => {
  await execFileAsync(file, [...args], options);
};

export interface MountedRootfs {
  /** the task's root file system: the image's layers with the task's own writes on top */
  rootfs: string;
  /** where the task's writes land (removed by unmountRootfs) */
  upperDir: string;
}

/** The kernel takes mount options up to a page; longer lowerdir lists fail with a vague EINVAL. */
const MAX_MOUNT_OPTIONS = 4095;

function taskPaths(taskDir: string) {
  const root = resolve(taskDir);
  return { rootfs: join(root, "rootfs"), upperDir: join(root, "upper"), workDir: join(root, "work") };
}

/**
 * The mount points /proc/self/mountinfo lists (its fifth field, with the kernel's octal
 * escapes for space, tab, newline and backslash undone).
 */
export function mountPointsIn(mountinfo: string): Set<string> {
  const points = new Set<string>();
  for (const line of mountinfo.split("\n")) {
    const point = line.split(" ")[4];
    if (point !== undefined) points.add(point.replace(/\\([0-7]{3})/g, (_escape, octal: string) => String.fromCharCode(parseInt(octal, 8))));
  }
  return points;
}

/** Read from /proc rather than by running mountpoint(1): a fork of a big process per container start and stop costs more than the read. */
async function isMountPoint(path: string): Promise<boolean> {
  const real = await realpath(path).catch(() => undefined);
  if (real === undefined) return false;
  return mountPointsIn(await readFile("/proc/self/mountinfo", "utf8")).has(real);
}

async function requireRootAndOverlayfs(run: CommandRunner): Promise<void> {
  const uid = process.getuid?.();
  if (uid !== 0) throw new ImageError("not_root", `mounting a task's root file system (overlayfs) needs root, and this process runs as uid ${uid}`);
  const filesystems = await readFile("/proc/filesystems", "utf8").catch(() => "");
  // The module may also load on first mount; only a missing entry after that is decisive (see mountRootfs).
  if (!/\toverlay$/m.test(filesystems)) await run("modprobe", ["overlay"], {}).catch(() => undefined);
}

async function requireDirectories(lowerDirs: readonly string[]): Promise<void> {
  if (lowerDirs.length === 0) throw new ImageError("not_found", "a root file system needs at least one layer directory");
  for (const dir of lowerDirs) {
    if (/[,:\\]/.test(dir)) throw new ImageError("unsupported", `layer directory ${dir} has ',', ':' or '\\' in its path, which overlayfs mount options cannot carry`, dir);
    const found = await stat(dir).catch(() => undefined);
    if (found === undefined || !found.isDirectory()) throw new ImageError("not_found", `layer directory ${dir} is missing; ensure the image's layers before mounting`, dir);
  }
}

/**
 * The lowerdir option, top layer first as overlayfs wants it. Layers from one LayerStore
 * share a parent, so their names are given relative to it (mount runs there): 65 bytes a
 * layer instead of a full path, which keeps deep images under the option size limit.
 */
function lowerdirOption(lowerDirs: readonly string[]): { lowerdir: string; cwd: string | undefined } {
  const absolute = lowerDirs.map((dir) => resolve(dir)).reverse();
  const parent = dirname(absolute[0]!);
  if (absolute.every((dir) => dirname(dir) === parent)) return { lowerdir: absolute.map((dir) => basename(dir)).join(":"), cwd: parent };
  return { lowerdir: absolute.join(":"), cwd: undefined };
}

/**
 * Mounts a task's root file system at `<taskDir>/rootfs`: the image's layers (bottom first,
 * as LayerStore.ensure gives them) read-only and shared with every other task of the image,
 * under a writable upper layer of the task's own in `<taskDir>/upper`, nosuid and nodev. Mounting what is
 * already mounted returns it as it is (a restarted borglet finds its tasks' mounts). With
 * `owner`, the root directory belongs to it: the container's root, in a user namespace.
 */
export async function mountRootfs(lowerDirs: readonly string[], taskDir: string, run: CommandRunner = forkFromHere, owner?: { uid: number; gid: number }): Promise<MountedRootfs> {
  const { rootfs, upperDir, workDir } = taskPaths(taskDir);
  await requireRootAndOverlayfs(run);
  await requireDirectories(lowerDirs);
  if (await isMountPoint(rootfs)) return { rootfs, upperDir };
  await mkdir(upperDir, { recursive: true, mode: 0o755 });
  if (owner !== undefined) await chown(upperDir, owner.uid, owner.gid);
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  await mkdir(rootfs, { recursive: true, mode: 0o755 });
  const { lowerdir, cwd } = lowerdirOption(lowerDirs);
  // nosuid and nodev: a setuid file or a device node in an image (or written by a task) gives
  // nothing; the container's own /dev is a tmpfs of its own.
  const options = `nosuid,nodev,lowerdir=${lowerdir},upperdir=${upperDir},workdir=${workDir}`;
  if (options.length > MAX_MOUNT_OPTIONS) {
    throw new ImageError("unsupported", `an image of ${lowerDirs.length} layers is too deep for one overlayfs mount (${options.length} bytes of options, the kernel takes ${MAX_MOUNT_OPTIONS})`);
  }
  try {
    await run("mount", ["-t", "overlay", "overlay", "-o", options, rootfs], cwd === undefined ? {} : { cwd });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim() || messageOf(error);
    if (/unknown filesystem type/i.test(stderr)) throw new ImageError("no_overlayfs", `this kernel cannot mount overlayfs (${stderr}); load the overlay module or use the host runtime`);
    throw new ImageError("mount_failed", `mounting the root file system at ${rootfs} failed: ${stderr}`, rootfs);
  }
  return { rootfs, upperDir };
}

/**
 * Unmounts a task's root file system and removes its upper layer (what the task wrote) and
 * overlayfs's work directory. The image's layers stay for other tasks. Safe to call when
 * nothing is mounted (a task that never started, or a second call).
 */
export async function unmountRootfs(taskDir: string, run: CommandRunner = forkFromHere): Promise<void> {
  const { rootfs, upperDir, workDir } = taskPaths(taskDir);
  if (await isMountPoint(rootfs)) {
    try {
      await run("umount", [rootfs], {});
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim() || messageOf(error);
      throw new ImageError("mount_failed", `unmounting ${rootfs} failed: ${stderr} (is a process of the task still running?)`, rootfs);
    }
  }
  // Only once it is unmounted: removing through a mounted rootfs would write whiteouts, not delete.
  await rm(upperDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
  await rm(rootfs, { recursive: true, force: true });
}
