import type { NatsConnection } from "@nats-io/transport-node";
import { ImageError } from "../errors.js";
import { formatImageRef, imageKey, imageRefOfKey, parseImageRef, type ImageRef } from "../image-ref.js";
import { imageBucketName, openImageBucket } from "./buckets.js";
import { decodeImageRecord, type ImageRecord } from "./image-record.js";

function byNameThenTag(a: ImageRecord, b: ImageRecord): number {
  return a.name === b.name ? (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0) : a.name < b.name ? -1 : 1;
}

/** Every image pushed to the cell, by name then tag; empty when none ever was. */
export async function listImages(nc: NatsConnection, cell: string): Promise<ImageRecord[]> {
  const catalog = await openImageBucket(nc, cell);
  if (catalog === undefined) return [];
  const keys: string[] = [];
  for await (const key of await catalog.keys()) keys.push(key);
  const records = await Promise.all(
    keys.map(async (key) => {
      let ref: ImageRef;
      try {
        ref = imageRefOfKey(key);
      } catch {
        throw new ImageError("bad_record", `${imageBucketName(cell)} holds the key '${key}', which is not an encoded image reference`);
      }
      const entry = await catalog.get(key);
      // Deleted between listing and reading: not an image any more.
      if (entry === null || entry.operation !== "PUT") return undefined;
      return decodeImageRecord(entry.string(), ref, imageBucketName(cell));
    }),
  );
  return records.filter((record) => record !== undefined).sort(byNameThenTag);
}

/** The record of `name[:tag]` in the cell (the tag defaults to latest). */
export async function resolveImage(nc: NatsConnection, cell: string, reference: string): Promise<ImageRecord> {
  const ref = parseImageRef(reference);
  const catalog = await openImageBucket(nc, cell);
  const entry = catalog === undefined ? null : await catalog.get(imageKey(ref));
  if (entry === null || entry.operation !== "PUT") {
    throw new ImageError("not_found", `image ${formatImageRef(ref)} was never pushed to cell ${cell}`);
  }
  return decodeImageRecord(entry.string(), ref, imageBucketName(cell));
}
