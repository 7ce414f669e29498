import { imageRecordSchema, layerRefSchema, type ImageRecord, type LayerRef } from "@corral/contracts";
import { ImageError, messageOf } from "../errors.js";
import { formatImageRef, type ImageRef } from "../image-ref.js";
import { describeIssues } from "../zod-issues.js";

export { imageRecordSchema, layerRefSchema, type ImageRecord, type LayerRef };

/** Stored as JSON, not msgpack: `nats kv get` then shows an operator what was pushed. */
export function encodeImageRecord(record: ImageRecord): string {
  return JSON.stringify(imageRecordSchema.parse(record));
}

/**
 * A record read back from KV, which anyone with access to the bucket could have written:
 * it must parse, match the schema, and be the image its key says it is.
 */
export function decodeImageRecord(text: string, expected: ImageRef, bucket: string): ImageRecord {
  const where = `the record of ${formatImageRef(expected)} in ${bucket}`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ImageError("bad_record", `${where} is not JSON (${messageOf(error)}); push the image again`);
  }
  const parsed = imageRecordSchema.safeParse(value);
  if (!parsed.success) throw new ImageError("bad_record", `${where} is not an image record: ${describeIssues(parsed.error)}; push the image again`);
  const record = parsed.data;
  if (record.name !== expected.name || record.tag !== expected.tag) {
    throw new ImageError("bad_record", `${where} describes ${record.name}:${record.tag} instead; push the image again`);
  }
  return record;
}
