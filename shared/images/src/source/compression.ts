import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { ImageError } from "../errors.js";
import { chain } from "../streams.js";

export type Compression = "gzip" | "zstd" | "none";

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** What a file is compressed with, from its first bytes (media types and file names can lie). */
export async function sniffCompression(file: string): Promise<Compression> {
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    const startsWith = (magic: number[]) => bytesRead >= magic.length && magic.every((byte, i) => head[i] === byte);
    if (startsWith(GZIP_MAGIC)) return "gzip";
    if (startsWith(ZSTD_MAGIC)) return "zstd";
    return "none";
  } finally {
    await handle.close();
  }
}

export function refuseZstd(file: string, compression: Compression): void {
  if (compression === "zstd") {
    throw new ImageError("unsupported", `${file} is zstd-compressed, which Corral cannot read yet (Node 20 has no zstd); save the image with gzip or no compression`, file);
  }
}

/** A file's bytes as a stream, gunzipped when they are gzip. */
export function decompress(raw: Readable, compression: Compression): Readable {
  return compression === "gzip" ? chain(raw, createGunzip()) : raw;
}

/** The file's content, gunzipped when it is gzip. */
export function openDecompressed(file: string, compression: Compression): Readable {
  refuseZstd(file, compression);
  return decompress(createReadStream(file), compression);
}
