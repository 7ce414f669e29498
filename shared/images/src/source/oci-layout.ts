import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { digestHex } from "../digest.js";
import { ImageError } from "../errors.js";
import { configFileSchema, imageConfigOf, type ImageConfig } from "../image-config.js";
import { fileInside } from "./inside.js";
import { parseJsonDocument, readJsonDocument } from "./json-file.js";
import { layerFromFile } from "./layer-file.js";
import { matchesSelection } from "./selection.js";
import type { SourceLayer } from "./types.js";

const descriptorSchema = z.object({
  mediaType: z.string(),
  digest: z.string(),
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string(), z.string()).nullish(),
  platform: z.object({ os: z.string(), architecture: z.string() }).nullish(),
});
type Descriptor = z.infer<typeof descriptorSchema>;

const layoutSchema = z.object({ imageLayoutVersion: z.string() });
const indexSchema = z.object({ manifests: z.array(descriptorSchema) });
const manifestSchema = z.object({ config: descriptorSchema, layers: z.array(descriptorSchema) });

const REF_NAME = "org.opencontainers.image.ref.name";
const INDEX_TYPES = new Set(["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"]);
/** Plain and gzip tars, OCI's and Docker's names for them; zstd layers are refused with their own message. */
const LAYER_TYPE = /^application\/vnd\.(oci\.image\.layer\.(nondistributable\.)?v1\.tar(\+gzip)?|docker\.image\.rootfs\.(foreign\.)?diff\.tar(\.gzip)?)$/;
/** Node's names for processor architectures, in OCI's words. */
const OCI_ARCH: Readonly<Record<string, string>> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x" };

export interface ReadImage {
  layers: SourceLayer[];
  config: ImageConfig;
}

/** A blob's bytes, checked against the digest and size its descriptor gives. */
async function readBlob(root: string, descriptor: Descriptor, described: string, what: string): Promise<{ file: string; bytes: Buffer }> {
  const file = await fileInside(root, `blobs/sha256/${digestHex(descriptor.digest)}`, what, described);
  const bytes = await readFile(file);
  const actual = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  if (actual !== descriptor.digest) throw new ImageError("digest_mismatch", `${described}: ${what} ${file} has digest ${actual}, but it is listed as ${descriptor.digest}`, file);
  if (bytes.length !== descriptor.size) throw new ImageError("digest_mismatch", `${described}: ${what} ${file} is ${bytes.length} bytes, but it is listed as ${descriptor.size}`, file);
  return { file, bytes };
}

function chooseManifest(manifests: Descriptor[], indexFile: string, select: string | undefined): Descriptor {
  const names = manifests.map((m) => m.annotations?.[REF_NAME]).filter((name) => name !== undefined);
  if (select !== undefined) {
    const chosen = manifests.find((m) => matchesSelection(m.annotations?.[REF_NAME], select));
    if (chosen === undefined) throw new ImageError("not_found", `${indexFile} has no image named '${select}' (it has: ${names.join(", ") || "no named images"})`, indexFile);
    return chosen;
  }
  const [only, ...others] = manifests;
  if (only === undefined) throw new ImageError("bad_manifest", `${indexFile} lists no images`, indexFile);
  if (others.length > 0) throw new ImageError("bad_manifest", `${indexFile} lists ${manifests.length} images (${names.join(", ")}); say which one to read`, indexFile);
  return only;
}

/** From a multi-platform index, the manifest for this machine's Linux architecture. */
function choosePlatform(manifests: Descriptor[], indexFile: string): Descriptor {
  const arch = OCI_ARCH[process.arch] ?? process.arch;
  const chosen = manifests.find((m) => m.platform?.os === "linux" && m.platform.architecture === arch);
  if (chosen === undefined) {
    const platforms = manifests.map((m) => (m.platform ? `${m.platform.os}/${m.platform.architecture}` : "unspecified")).join(", ");
    throw new ImageError("not_found", `${indexFile} has no image for linux/${arch} (it has: ${platforms})`, indexFile);
  }
  return chosen;
}

/** An OCI image layout (a directory): oci-layout, index.json, then manifest, config and layer blobs. */
export async function readOciLayout(root: string, described: string, select: string | undefined): Promise<ReadImage> {
  await readJsonDocument(join(root, "oci-layout"), layoutSchema, "an OCI layout marker");
  const indexFile = join(root, "index.json");
  let index: z.infer<typeof indexSchema>;
  try {
    index = await readJsonDocument(indexFile, indexSchema, "an OCI image index");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new ImageError("manifest_missing", `${described} has an oci-layout file but no index.json`, indexFile);
    throw error;
  }
  let descriptor = chooseManifest(index.manifests, indexFile, select);
  // An index may point at a multi-platform index; follow it (a nesting deeper than that is not an image we know).
  for (let depth = 0; INDEX_TYPES.has(descriptor.mediaType); depth += 1) {
    if (depth === 2) throw new ImageError("unsupported", `${described}: image indexes nested more than twice`, indexFile);
    const nested = await readBlob(root, descriptor, described, "image index");
    descriptor = choosePlatform(parseJsonDocument(nested.bytes, indexSchema, nested.file, "an OCI image index").manifests, nested.file);
  }
  const manifestBlob = await readBlob(root, descriptor, described, "manifest");
  const manifest = parseJsonDocument(manifestBlob.bytes, manifestSchema, manifestBlob.file, "an OCI image manifest");
  const configBlob = await readBlob(root, manifest.config, described, "config");
  const configFile = parseJsonDocument(configBlob.bytes, configFileSchema, configBlob.file, "an OCI image config");
  const diffIds = configFile.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new ImageError("bad_manifest", `${described}: the manifest lists ${manifest.layers.length} layers but the config's rootfs.diff_ids has ${diffIds.length}`, manifestBlob.file);
  }
  const layers: SourceLayer[] = [];
  for (const [i, layer] of manifest.layers.entries()) {
    if (/zstd/.test(layer.mediaType)) throw new ImageError("unsupported", `${described}: layer ${i + 1} is ${layer.mediaType}; Corral reads plain and gzip layers only`, manifestBlob.file);
    if (!LAYER_TYPE.test(layer.mediaType)) throw new ImageError("unsupported", `${described}: layer ${i + 1} has media type ${layer.mediaType}, which is not an image layer`, manifestBlob.file);
    const file = await fileInside(root, `blobs/sha256/${digestHex(layer.digest)}`, `layer ${i + 1}`, described);
    layers.push(await layerFromFile(file, `${described}, layer ${i + 1}`, { blob: { digest: layer.digest, size: layer.size }, diffId: diffIds[i]! }));
  }
  return { layers, config: imageConfigOf(configFile) };
}
