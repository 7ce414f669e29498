import { readdir } from "node:fs/promises";
import { Readable } from "node:stream";
import { create } from "tar";
import { ImageError } from "../errors.js";
import { scanTar } from "../layers/scan-tar.js";
import type { SourceLayer } from "./types.js";

/** Every mtime in a directory's tar: the digest depends on content, not on when it was copied. */
const FIXED_MTIME = new Date(0);

/** Paths under `root`, parents before children, siblings in byte order (not locale order). */
async function sortedPaths(root: string, prefix = ""): Promise<string[]> {
  const entries = await readdir(prefix === "" ? root : `${root}/${prefix}`, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const paths: string[] = [];
  for (const entry of entries) {
    const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    paths.push(path);
    if (entry.isDirectory()) paths.push(...(await sortedPaths(root, path)));
  }
  return paths;
}

/**
 * A root filesystem directory as one layer: a tar of its entries in sorted order, every
 * mtime fixed and every owner root (node-tar's portable mode), so the same directory always
 * gives the same digest.
 */
export async function layerFromDirectory(root: string, described: string): Promise<SourceLayer> {
  const paths = await sortedPaths(root);
  if (paths.length === 0) throw new ImageError("not_found", `${root} is an empty directory; a root filesystem needs at least one file`, root);
  const open = () => Readable.from(create({ cwd: root, portable: true, mtime: FIXED_MTIME, noDirRecurse: true }, paths));
  const scanned = await scanTar(open(), described);
  return { digest: scanned.digest, size: scanned.size, open };
}
