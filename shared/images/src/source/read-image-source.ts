import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ImageError } from "../errors.js";
import { extractCheckedTar } from "../layers/unpack-layer.js";
import { layerFromDirectory } from "./directory-layer.js";
import { openDecompressed, refuseZstd, sniffCompression } from "./compression.js";
import { readDockerArchive } from "./docker-archive.js";
import { readOciLayout, type ReadImage } from "./oci-layout.js";
import { scanTar } from "../layers/scan-tar.js";
import type { ImageSource, ReadImageSourceOptions, SourceFormat } from "./types.js";

/** Which image format a directory or tarball holds: the marker files at its top decide. */
function formatOf<Plain extends "directory" | "tarball">(topLevel: ReadonlySet<string>, plain: Plain): "oci-layout" | "docker-archive" | Plain {
  if (topLevel.has("oci-layout")) return "oci-layout";
  if (topLevel.has("manifest.json")) return "docker-archive";
  return plain;
}

async function readArchiveDirectory(dir: string, format: "oci-layout" | "docker-archive", described: string, options: ReadImageSourceOptions): Promise<ReadImage> {
  return format === "oci-layout" ? readOciLayout(dir, described, options.select) : readDockerArchive(dir, described, options.select);
}

async function readDirectory(path: string, options: ReadImageSourceOptions): Promise<ImageSource> {
  const topLevel = new Set(await readdir(path));
  const format = formatOf(topLevel, "directory");
  refuseHalfArchives(path, topLevel, format);
  const close = async () => {};
  if (format === "directory") {
    const described = `root filesystem ${path}`;
    const layer = await layerFromDirectory(path, described);
    return { path, format, layers: [layer], config: {}, close };
  }
  const image = await readArchiveDirectory(path, format, `${format} ${path}`, options);
  return { path, format, ...image, close };
}

/**
 * Archives that lack the file describing them would otherwise pass for root filesystems
 * (and be pushed as one odd layer): an old-style docker save with only `repositories`, an
 * OCI layout without its `oci-layout` marker or without `index.json`.
 */
function refuseHalfArchives(path: string, topLevel: ReadonlySet<string>, format: SourceFormat): void {
  const plain = format === "tarball" || format === "directory";
  if (plain && topLevel.has("repositories")) {
    throw new ImageError("manifest_missing", `${path} looks like a docker save tarball (it has 'repositories') but has no manifest.json; save it with a newer docker`, path);
  }
  if (plain && topLevel.has("index.json") && topLevel.has("blobs")) {
    throw new ImageError("manifest_missing", `${path} looks like an OCI image layout (index.json, blobs/) but has no oci-layout file`, path);
  }
  if (format === "oci-layout" && !topLevel.has("index.json")) {
    throw new ImageError("manifest_missing", `${path} has an oci-layout file but no index.json`, path);
  }
}

/**
 * A tarball is either a root filesystem (one layer) or an image archive (docker save, an
 * OCI layout in a tar). One pass tells which (the top-level names) and, for a root
 * filesystem, already gives the layer's digest; an archive is unpacked into a temporary
 * directory and read like a directory.
 */
async function readTarball(path: string, options: ReadImageSourceOptions): Promise<ImageSource> {
  const compression = await sniffCompression(path);
  refuseZstd(path, compression);
  const topLevel = new Set<string>();
  const scanned = await scanTar(openDecompressed(path, compression), path, (entry) => {
    if (!entry.path.includes("/")) topLevel.add(entry.path);
  });
  const format = formatOf(topLevel, "tarball");
  refuseHalfArchives(path, topLevel, format);
  if (format === "tarball") {
    const layer = { digest: scanned.digest, size: scanned.size, open: () => openDecompressed(path, compression) };
    return { path, format, layers: [layer], config: {}, close: async () => {} };
  }
  const unpacked = await mkdtemp(join(options.tmpDir ?? tmpdir(), "corral-image-"));
  const close = () => rm(unpacked, { recursive: true, force: true });
  try {
    // With the same extractor as layers: the scan above already passed every entry.
    await extractCheckedTar(() => openDecompressed(path, compression), unpacked, path);
    const image = await readArchiveDirectory(unpacked, format, `${format === "oci-layout" ? "OCI layout" : "docker-save"} tarball ${path}`, options);
    return { path, format, ...image, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Reads an image from disk, whatever its form: a root filesystem directory, a plain
 * (optionally gzip) tarball of one, a `docker save` tarball, or an OCI image layout as a
 * directory or a tarball. Every layer is hashed (its uncompressed tar, the diff id) and
 * checked against what the archive says it is; call `close()` when done with the result.
 */
export async function readImageSource(path: string, options: ReadImageSourceOptions = {}): Promise<ImageSource> {
  const absolute = resolve(path);
  const found = await stat(absolute).catch(() => undefined);
  if (found === undefined) throw new ImageError("not_found", `${absolute} does not exist`, absolute);
  if (found.isDirectory()) return readDirectory(absolute, options);
  if (found.isFile()) return readTarball(absolute, options);
  throw new ImageError("not_a_tarball", `${absolute} is neither a directory nor a file`, absolute);
}
