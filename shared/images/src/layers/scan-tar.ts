import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { Parser, type ReadEntry } from "tar";
import { DigestMeter } from "../digest.js";
import { ImageError, messageOf } from "../errors.js";
import { LayerEntryGuard, type AdmittedEntry } from "./entry-guard.js";

export interface ScannedTar {
  /** sha256 of the uncompressed tar */
  digest: string;
  size: number;
  entries: number;
}

/**
 * Reads a whole uncompressed tar stream once, writing nothing: hashes it, and puts every
 * entry through the layer guard. Import runs it so a damaged or unsafe layer is refused
 * before it reaches the cell; LayerStore runs it again before unpacking what it fetched.
 */
export async function scanTar(source: Readable, described: string, onEntry?: (entry: AdmittedEntry) => void): Promise<ScannedTar> {
  const meter = new DigestMeter();
  const guard = new LayerEntryGuard(described);
  let entries = 0;
  let refusal: unknown;
  const parser = new Parser({
    // strict: every complaint of the parser (a bad header, a truncated body) is an error.
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      entry.resume();
      if (refusal !== undefined) return;
      try {
        const admitted = guard.admit(entry);
        entries += 1;
        onEntry?.(admitted);
      } catch (error) {
        refusal = error;
        parser.abort(error as Error);
      }
    },
  });
  try {
    await pipeline(source, meter, parser);
  } catch (error) {
    if (refusal !== undefined) throw refusal;
    if (error instanceof ImageError) throw error;
    throw new ImageError("not_a_tarball", `${described} is not a readable tar archive (${messageOf(error)})`);
  }
  if (refusal !== undefined) throw refusal;
  if (entries === 0) throw new ImageError("not_a_tarball", `${described} is not a tar archive, or an empty one (no entries)`);
  return { digest: meter.digest, size: meter.bytes, entries };
}
