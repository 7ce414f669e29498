// A copy of an unpacked layer whose files are owned by ids shifted into a user namespace's
// range, for containers whose root is not the machine's root. The kernel here can map ids on
// a mount (idmapped mounts), but neither runc 1.1 nor util-linux 2.38 can ask it to; a copy
// per range is what containers/storage falls back to as well, and it is made once per user
// and layer, not per task.
import { chmod, lchown, lstat, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { ImageError, messageOf } from "../errors.js";
import type { CommandRunner } from "../rootfs/mount.js";

/** Container ids 0…size-1 are host ids offset…offset+size-1. */
export interface IdShift {
  offset: number;
  size: number;
}

/** Ownership changes at once while walking a layer: enough to keep the disk busy, few enough file handles. */
const CHOWNS_IN_FLIGHT = 64;
const SET_ID_BITS = 0o6000;

/**
 * Copies `source` to `target` with every file, directory, link and device owned `shift.offset`
 * higher. The copy keeps what overlayfs reads (whiteout devices, the opaque xattr), hard links
 * and modes; it is made beside `target` and renamed into place, so `target` is whole or absent.
 * A file owned by an id the namespace does not map is refused, naming it: shown inside as
 * nobody, it would break the image in ways hard to trace.
 */
export async function shiftLayer(source: string, target: string, staging: string, shift: IdShift, run: CommandRunner): Promise<void> {
  await rm(staging, { recursive: true, force: true });
  try {
    // cp -a keeps owners, modes, times, hard links, xattrs (trusted.* as root) and device nodes;
    // reflinks share the data where the file system can.
    await run("cp", ["-a", "--reflink=auto", "--no-target-directory", source, staging], {});
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    const stderr = (error as { stderr?: string }).stderr?.trim() || messageOf(error);
    throw new ImageError("unpack_failed", `copying layer ${source} for a user namespace failed: ${stderr}`, source);
  }
  try {
    const entries = ["", ...(await readdir(staging, { recursive: true }))];
    for (let start = 0; start < entries.length; start += CHOWNS_IN_FLIGHT) {
      await Promise.all(entries.slice(start, start + CHOWNS_IN_FLIGHT).map((entry) => shiftOwner(staging, entry, shift)));
    }
    try {
      await rename(staging, target);
    } catch (error) {
      // Another borglet on this machine shifted the same layer for the same range first.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
      await rm(staging, { recursive: true, force: true });
    }
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function shiftOwner(root: string, entry: string, shift: IdShift): Promise<void> {
  const path = join(root, entry);
  const found = await lstat(path);
  if (found.uid >= shift.size || found.gid >= shift.size) {
    throw new ImageError("unsupported", `/${entry} in the image is owned by ${found.uid}:${found.gid}, beyond the ${shift.size} ids a container's user namespace maps (0-${shift.size - 1}); rebuild the image with lower ids, or run the job as root (an admin's run_as_root)`, entry);
  }
  await lchown(path, found.uid + shift.offset, found.gid + shift.offset);
  // chown clears setuid and setgid on files; they are put back so the copy is the image as
  // built (the root file system is mounted nosuid, so they give nothing either way).
  if (!found.isSymbolicLink() && !found.isDirectory() && (found.mode & SET_ID_BITS) !== 0) await chmod(path, found.mode & 0o7777);
}
