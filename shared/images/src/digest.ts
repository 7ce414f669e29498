import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { ImageError } from "./errors.js";

import { DIGEST_PATTERN } from "@corral/contracts";

export { DIGEST_PATTERN };

export function isDigest(text: string): boolean {
  return DIGEST_PATTERN.test(text);
}

/** The hex part of a digest, after checking it is one (it becomes a file name). */
export function digestHex(digest: string): string {
  if (!isDigest(digest)) {
    const algorithm = /^([a-z0-9+._-]+):/.exec(digest)?.[1];
    if (algorithm !== undefined && algorithm !== "sha256") {
      throw new ImageError("unsupported", `digest '${digest}' uses ${algorithm}; Corral addresses content by sha256 only`);
    }
    throw new ImageError("bad_manifest", `'${digest}' is not a digest (sha256: and 64 lower-case hex digits)`);
  }
  return digest.slice("sha256:".length);
}

/** A pass-through stream that hashes and counts what flows through it. */
export class DigestMeter extends Transform {
  private readonly hash: Hash = createHash("sha256");
  private finished: string | undefined;
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.finished = `sha256:${this.hash.digest("hex")}`;
    callback();
  }

  /** The digest of everything that flowed through; only once the stream has ended. */
  get digest(): string {
    if (this.finished === undefined) throw new Error("DigestMeter read before its stream ended");
    return this.finished;
  }
}
