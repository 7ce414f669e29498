import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Unpack, type ReadEntry } from "tar";
import { ImageError, messageOf } from "../errors.js";
import { scanTar } from "./scan-tar.js";
import { LayerEntryGuard } from "./entry-guard.js";
import { applyDeferred, type DeferredEntry } from "./deferred-entries.js";

export interface UnpackReport {
  entries: number;
  whiteouts: number;
  opaqueDirectories: number;
}

const SPECIAL_TYPE = { CharacterDevice: "c", BlockDevice: "b", FIFO: "p" } as const;

/**
 * Unpacks an uncompressed layer tar file into `dir` (fresh and empty) in overlayfs's form,
 * in two passes. The first writes nothing: it hashes the tar and puts every entry through
 * the guard, so a layer that is not the one expected, or is unsafe anywhere, is refused
 * before a single file exists. (Checking while extracting is not enough: node-tar still has
 * writes in flight when it reports an error, and they land after the caller cleaned up.)
 */
export async function unpackLayerFile(tarFile: string, dir: string, described: string, expected?: { digest: string; size: number }): Promise<UnpackReport> {
  const scanned = await scanTar(createReadStream(tarFile), described);
  if (expected !== undefined && scanned.digest !== expected.digest) {
    throw new ImageError("digest_mismatch", `${described} unpacks to a tar with digest ${scanned.digest}: the stored copy is not that layer; push the image again`);
  }
  if (expected !== undefined && scanned.size !== expected.size) {
    throw new ImageError("digest_mismatch", `${described} is ${scanned.size} bytes uncompressed, but the image record says ${expected.size}`);
  }
  return extractCheckedTar(() => createReadStream(tarFile), dir, described);
}

/**
 * Extracts a tar that scanTar already passed (the second pass): node-tar writes directories and regular files; links, whiteouts and
 * special files are made afterwards (deferred-entries.ts says why). node-tar runs with
 * preservePaths because its own safety rules are made for packages, not root filesystems
 * (they would also rewrite `/bin/sh -> /bin/busybox`); the guard, which already passed every
 * entry, is stricter where it matters and runs again here. Not strict: every complaint is
 * collected and fails the layer only once node-tar has finished all its writes.
 */
export async function extractCheckedTar(open: () => Readable, dir: string, described: string): Promise<UnpackReport> {
  const guard = new LayerEntryGuard(described);
  const deferred: DeferredEntry[] = [];
  const report: UnpackReport = { entries: 0, whiteouts: 0, opaqueDirectories: 0 };
  const problems: string[] = [];
  const unpack = new Unpack({
    cwd: dir,
    preservePaths: true,
    // Modes exactly as the layer says (setuid bits included), owners as the layer says (we run as root).
    chmod: true,
    processUmask: 0,
    preserveOwner: true,
    onwarn: (code, message) => problems.push(`${code}: ${messageOf(message)}`),
    filter: (_path, raw) => {
      const entry = raw as ReadEntry;
      try {
        const admitted = guard.admit(entry);
        report.entries += 1;
        switch (admitted.kind) {
          case "whiteout":
            report.whiteouts += 1;
            deferred.push({ kind: "whiteout", hidden: admitted.hidden, uid: entry.uid ?? 0, gid: entry.gid ?? 0 });
            return false;
          case "opaque":
            report.opaqueDirectories += 1;
            deferred.push({ kind: "opaque", directory: admitted.directory });
            return false;
          case "special": {
            const type = SPECIAL_TYPE[entry.type as keyof typeof SPECIAL_TYPE];
            deferred.push({ kind: "special", path: admitted.path, type, major: entry.header.devmaj ?? 0, minor: entry.header.devmin ?? 0, mode: entry.mode ?? 0o600, uid: entry.uid ?? 0, gid: entry.gid ?? 0 });
            return false;
          }
          case "symlink":
            deferred.push({ kind: "symlink", path: admitted.path, target: admitted.target, uid: entry.uid ?? 0, gid: entry.gid ?? 0, mtime: entry.mtime ?? new Date(0) });
            return false;
          case "hardlink":
            deferred.push({ kind: "hardlink", path: admitted.path, target: admitted.target });
            return false;
          case "ignored":
            return false;
          default:
            return true;
        }
      } catch (error) {
        problems.push(messageOf(error));
        return false;
      }
    },
  });
  try {
    await pipeline(open(), unpack);
  } catch (error) {
    problems.push(messageOf(error));
  }
  if (problems.length > 0) throw new ImageError("unpack_failed", `${described} could not be unpacked: ${problems.slice(0, 3).join("; ")}`);
  await applyDeferred(dir, deferred);
  return report;
}
