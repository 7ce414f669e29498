import { lstatSync, readlinkSync } from "node:fs";
import { join, posix } from "node:path";

const MAX_SYMLINKS = 40;

/**
 * Resolves `path` as a process inside `root` would see it: symlinks are followed relative to
 * the root, never out of it (an image's /bin/sh -> /bin/busybox means the image's busybox,
 * not the host's). Returns the path inside the root of an executable regular file, or undefined.
 */
export function executableInRoot(root: string, path: string): string | undefined {
  return regularFileInRoot(root, path, true);
}

/** As executableInRoot, for any regular file (an image's /etc/passwd, which may be a link into it). */
export function regularFileInRoot(root: string, path: string, executable = false): string | undefined {
  let current = posix.normalize(path);
  for (let hops = 0; hops <= MAX_SYMLINKS; hops++) {
    const parts = current.split("/").filter((part) => part !== "");
    let resolved = "/";
    let redirected = false;
    for (let i = 0; i < parts.length; i++) {
      const candidate = posix.join(resolved, parts[i]!);
      let stat;
      try {
        stat = lstatSync(join(root, candidate));
      } catch {
        return undefined;
      }
      if (stat.isSymbolicLink()) {
        const target = readlinkSync(join(root, candidate));
        const rest = parts.slice(i + 1).join("/");
        current = posix.normalize(posix.join(target.startsWith("/") ? target : posix.join(resolved, target), rest));
        redirected = true;
        break;
      }
      resolved = candidate;
      if (i === parts.length - 1) return stat.isFile() && (!executable || (stat.mode & 0o111) !== 0) ? resolved : undefined;
    }
    if (!redirected) return undefined;
  }
  return undefined;
}

/** A bare name is looked up in the image's PATH; a path is taken as it is. */
export function findInRoot(root: string, binary: string, searchPath: string): { path?: string; searched: string[] } {
  if (binary.includes("/")) {
    const path = executableInRoot(root, binary.startsWith("/") ? binary : `/${binary}`);
    return path === undefined ? { searched: [binary] } : { path: binary, searched: [binary] };
  }
  const searched: string[] = [];
  for (const dir of searchPath.split(":").filter((entry) => entry.startsWith("/"))) {
    const candidate = posix.join(dir, binary);
    searched.push(candidate);
    if (executableInRoot(root, candidate) !== undefined) return { path: candidate, searched };
  }
  return { searched };
}
