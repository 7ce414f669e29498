import { posix } from "node:path";
import { ImageError } from "../errors.js";

/** The parts of a tar entry the guard judges (node-tar's ReadEntry has them all). */
export interface TarEntryHeader {
  path: string;
  type: string;
  linkpath?: string | undefined;
}

/**
 * What an admitted entry becomes. Whiteouts and special files are not written by the tar
 * extractor: whiteouts become overlayfs's own form, and Node cannot make device nodes.
 */
export type AdmittedEntry =
  | { kind: "directory" | "file"; path: string }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "hardlink"; path: string; target: string }
  /** hides `hidden` (a path from a lower layer) */
  | { kind: "whiteout"; path: string; hidden: string }
  /** hides everything lower layers have in `directory` */
  | { kind: "opaque"; path: string; directory: string }
  | { kind: "special"; path: string }
  /** tar types a root filesystem has no use for (AUFS metadata, GNU dump dirs, …) */
  | { kind: "ignored"; path: string };

const WHITEOUT_PREFIX = ".wh.";
/** AUFS's reserved names start with `.wh..wh.`; the only one OCI gives meaning to is the opaque marker. */
const AUFS_META_PREFIX = ".wh..wh.";
const OPAQUE_MARKER = ".wh..wh..opq";
const FILE_TYPES = new Set(["File", "OldFile", "ContiguousFile"]);
const SPECIAL_TYPES = new Set(["CharacterDevice", "BlockDevice", "FIFO"]);

/**
 * Decides, entry by entry, whether a layer tar may be unpacked into a fresh directory
 * without writing anywhere else. Layers are outside input, so it refuses:
 * absolute paths and `..` (in paths and hard-link targets), any entry whose path goes
 * through a symlink an earlier entry made (the write would follow it out), an entry that
 * replaces such a symlink, and relative symlinks that climb above the layer's root.
 * Absolute symlink targets are kept: they mean the image's own root once the task runs
 * chrooted, and every real root filesystem has them.
 */
export class LayerEntryGuard {
  /** paths this layer made into symlinks, including hard links to them */
  private readonly symlinks = new Set<string>();

  constructor(private readonly described: string) {}

  admit(entry: TarEntryHeader): AdmittedEntry {
    const path = this.cleanPath(entry.path, entry.path, "its path");
    this.refuseThroughSymlink(entry.path, path);
    if (this.symlinks.has(path)) throw this.unsafe(entry.path, `replaces the symlink '${path}' that an earlier entry made`);
    const name = posix.basename(path);
    const parent = posix.dirname(path) === "." ? "" : posix.dirname(path);
    if (path === "" && entry.type !== "Directory") throw this.unsafe(entry.path, "would replace the layer's root directory");

    if (name === OPAQUE_MARKER) return { kind: "opaque", path, directory: parent };
    if (name.startsWith(AUFS_META_PREFIX)) return { kind: "ignored", path };
    if (name.startsWith(WHITEOUT_PREFIX)) {
      const hidden = name.slice(WHITEOUT_PREFIX.length);
      if (hidden === "" || hidden === "." || hidden === "..") throw this.unsafe(entry.path, "is a whiteout that names no file");
      return { kind: "whiteout", path, hidden: parent === "" ? hidden : `${parent}/${hidden}` };
    }
    if (entry.type === "Directory") return { kind: "directory", path };
    if (FILE_TYPES.has(entry.type)) return { kind: "file", path };
    if (SPECIAL_TYPES.has(entry.type)) return { kind: "special", path };
    if (entry.type === "SymbolicLink") return this.admitSymlink(entry, path);
    if (entry.type === "Link") return this.admitHardlink(entry, path);
    return { kind: "ignored", path };
  }

  private admitSymlink(entry: TarEntryHeader, path: string): AdmittedEntry {
    const target = entry.linkpath ?? "";
    if (target === "") throw this.unsafe(entry.path, "is a symlink to nothing");
    if (target.includes("\0")) throw this.unsafe(entry.path, "is a symlink whose target holds a NUL byte");
    if (!target.startsWith("/")) {
      // Walk the target from the link's directory: one '..' too many leaves the layer.
      let depth = path.split("/").length - 1;
      for (const part of target.split("/")) {
        if (part === "..") depth -= 1;
        else if (part !== "" && part !== ".") depth += 1;
        if (depth < 0) throw this.unsafe(entry.path, `is a symlink to '${target}', which leads out of the layer`);
      }
    }
    this.symlinks.add(path);
    return { kind: "symlink", path, target };
  }

  private admitHardlink(entry: TarEntryHeader, path: string): AdmittedEntry {
    const raw = entry.linkpath ?? "";
    const target = this.cleanPath(entry.path, raw, `its hard-link target '${raw}'`);
    if (target === "") throw this.unsafe(entry.path, "is a hard link to the layer's root directory");
    this.refuseThroughSymlink(entry.path, target);
    // A hard link to a symlink is a second symlink: later entries must not go through it either.
    if (this.symlinks.has(target)) this.symlinks.add(path);
    return { kind: "hardlink", path, target };
  }

  /** `./a//b/` → `a/b`; the root is ''. Refuses absolute paths, `..` and NUL bytes. */
  private cleanPath(entryPath: string, raw: string, what: string): string {
    if (raw.includes("\0")) throw this.unsafe(entryPath, `has a NUL byte in ${what}`);
    if (raw.startsWith("/")) throw this.unsafe(entryPath, `has an absolute path in ${what}`);
    const parts = raw.split("/").filter((part) => part !== "" && part !== ".");
    if (parts.includes("..")) throw this.unsafe(entryPath, `climbs out with '..' in ${what}`);
    return parts.join("/");
  }

  private refuseThroughSymlink(entryPath: string, path: string): void {
    const parts = path.split("/");
    for (let end = 1; end < parts.length; end += 1) {
      const ancestor = parts.slice(0, end).join("/");
      if (this.symlinks.has(ancestor)) throw this.unsafe(entryPath, `goes through the symlink '${ancestor}' that an earlier entry made`);
    }
  }

  private unsafe(entryPath: string, why: string): ImageError {
    return new ImageError("unsafe_path", `${this.described}: entry '${entryPath}' ${why}; refused`);
  }
}
