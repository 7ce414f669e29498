import { execFile } from "node:child_process";
import { lchown, link, lutimes, mkdir, rm, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { setAttribute } from "@napi-rs/xattr";
import { ImageError, messageOf } from "../errors.js";

const run = promisify(execFile);

/** overlayfs reads this xattr on a directory of a lower layer as "hide everything below me". */
export const OPAQUE_XATTR = "trusted.overlay.opaque";

interface Owner {
  uid: number;
  gid: number;
}

/**
 * An entry node-tar does not write, remembered with what is needed to make it once the
 * regular files and directories are out. Whiteouts become overlayfs's forms; Node cannot
 * make device nodes; and links are made here because node-tar deadlocks on a link whose
 * target lies under its own path (`a -> a/b`), which a hostile layer could use to hang the
 * borglet. Applied in the tar's order after extraction, which gives the same result: the
 * guard already refused every entry that would go through or replace a symlink.
 */
export type DeferredEntry =
  | ({ kind: "whiteout"; hidden: string } & Owner)
  | { kind: "opaque"; directory: string }
  | ({ kind: "special"; path: string; type: "c" | "b" | "p"; major: number; minor: number; mode: number } & Owner)
  | ({ kind: "symlink"; path: string; target: string; mtime: Date } & Owner)
  | { kind: "hardlink"; path: string; target: string };

/**
 * Node has no mknod(2); coreutils' mknod(1) makes device nodes and FIFOs. One process per
 * node is slow for thousands, but layers have a handful (whiteouts, the odd /dev entry).
 */
async function mknod(path: string, type: "c" | "b" | "p", major: number, minor: number, mode: number): Promise<void> {
  const numbers = type === "p" ? [] : [String(major), String(minor)];
  try {
    await run("mknod", ["-m", (mode & 0o7777).toString(8), path, type, ...numbers]);
  } catch (error) {
    throw new ImageError("unpack_failed", `could not make the ${type === "p" ? "FIFO" : "device node"} ${path} (${messageOf(error).trim()}); unpacking layers needs root`, path);
  }
}

/** Clears the way for an entry: a later entry of a tar replaces an earlier one at its path. */
async function replace(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  await mkdir(dirname(path), { recursive: true });
}

async function applyOne(layerDir: string, entry: DeferredEntry): Promise<void> {
  switch (entry.kind) {
    case "opaque": {
      const directory = join(layerDir, entry.directory);
      await mkdir(directory, { recursive: true });
      try {
        await setAttribute(directory, OPAQUE_XATTR, "y");
      } catch (error) {
        throw new ImageError("unpack_failed", `could not set ${OPAQUE_XATTR} on ${directory} (${messageOf(error)}); it needs root and a file system with trusted xattrs`, directory);
      }
      return;
    }
    case "whiteout": {
      // The layer may also carry the hidden name; the whiteout wins, as it would in overlayfs.
      const path = join(layerDir, entry.hidden);
      await replace(path);
      await mknod(path, "c", 0, 0, 0);
      await lchown(path, entry.uid, entry.gid);
      return;
    }
    case "special": {
      const path = join(layerDir, entry.path);
      await replace(path);
      await mknod(path, entry.type, entry.major, entry.minor, entry.mode);
      await lchown(path, entry.uid, entry.gid);
      return;
    }
    case "symlink": {
      const path = join(layerDir, entry.path);
      await replace(path);
      await symlink(entry.target, path);
      await lchown(path, entry.uid, entry.gid);
      await lutimes(path, entry.mtime, entry.mtime);
      return;
    }
    case "hardlink": {
      const path = join(layerDir, entry.path);
      await replace(path);
      await link(join(layerDir, entry.target), path);
      return;
    }
  }
}

/** Makes the deferred entries inside an unpacked layer, in the tar's order. */
export async function applyDeferred(layerDir: string, deferred: readonly DeferredEntry[]): Promise<void> {
  for (const entry of deferred) {
    try {
      await applyOne(layerDir, entry);
    } catch (error) {
      if (error instanceof ImageError) throw error;
      throw new ImageError("unpack_failed", `could not make ${entry.kind} ${"path" in entry ? entry.path : entry.kind === "whiteout" ? entry.hidden : entry.directory} in ${layerDir} (${messageOf(error)})`, layerDir);
    }
  }
}
