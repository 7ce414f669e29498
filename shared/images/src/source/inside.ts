import { realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { ImageError } from "../errors.js";

/**
 * The real path of `name` inside `root`, refusing names (and symlinks) that lead out of it:
 * an archive's manifest is outside input, and `../../etc/shadow` or a symlink to it must
 * not be read and pushed to the cell as a layer.
 */
export async function fileInside(root: string, name: string, what: string, described: string): Promise<string> {
  const unsafe = () => new ImageError("unsafe_path", `${described}: ${what} '${name}' points outside the image`, resolve(root, name));
  if (isAbsolute(name) || name.split(/[\\/]/).includes("..")) throw unsafe();
  let real: string;
  try {
    real = await realpath(resolve(root, name));
  } catch {
    throw new ImageError("blob_missing", `${described}: ${what} '${name}' is missing`, resolve(root, name));
  }
  const realRoot = await realpath(root);
  const fromRoot = relative(realRoot, real);
  if (fromRoot === "" || fromRoot.startsWith(`..${sep}`) || fromRoot === ".." || isAbsolute(fromRoot)) throw unsafe();
  if (!(await stat(real)).isFile()) throw new ImageError("blob_missing", `${described}: ${what} '${name}' is not a file`, real);
  return real;
}
