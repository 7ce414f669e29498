import { createReadStream } from "node:fs";
import { DigestMeter } from "../digest.js";
import { ImageError } from "../errors.js";
import { chain } from "../streams.js";
import { decompress, openDecompressed, refuseZstd, sniffCompression } from "./compression.js";
import { scanTar } from "../layers/scan-tar.js";
import type { SourceLayer } from "./types.js";

/** What the archive's own metadata says a layer file is, to check against what it holds. */
export interface LayerExpectation {
  /** the digest and size of the file as stored (compressed or not), from an OCI manifest */
  blob?: { digest: string; size: number };
  /** the diff id from the image config's rootfs.diff_ids */
  diffId?: string;
}

/**
 * A layer stored as a file (plain or gzip tar): read once to hash both the file and its
 * uncompressed tar and to check every entry, then compared with what the manifest and the
 * config say it is.
 */
export async function layerFromFile(file: string, described: string, expected: LayerExpectation = {}): Promise<SourceLayer> {
  const compression = await sniffCompression(file);
  refuseZstd(file, compression);
  const blobMeter = new DigestMeter();
  const scanned = await scanTar(decompress(chain(createReadStream(file), blobMeter), compression), described);
  if (expected.blob !== undefined) {
    if (blobMeter.digest !== expected.blob.digest) {
      throw new ImageError("digest_mismatch", `${described}: ${file} has digest ${blobMeter.digest}, but the manifest says ${expected.blob.digest}`, file);
    }
    if (blobMeter.bytes !== expected.blob.size) {
      throw new ImageError("digest_mismatch", `${described}: ${file} is ${blobMeter.bytes} bytes, but the manifest says ${expected.blob.size}`, file);
    }
  }
  if (expected.diffId !== undefined && scanned.digest !== expected.diffId) {
    throw new ImageError("digest_mismatch", `${described}: ${file} unpacks to a tar with digest ${scanned.digest}, but the image config's rootfs.diff_ids says ${expected.diffId}`, file);
  }
  return { digest: scanned.digest, size: scanned.size, open: () => openDecompressed(file, compression) };
}
