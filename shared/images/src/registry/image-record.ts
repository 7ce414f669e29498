import { z } from "zod";
import { DIGEST_PATTERN } from "../digest.js";
import { ImageError, messageOf } from "../errors.js";
import { imageConfigSchema } from "../image-config.js";
import { formatImageRef, type ImageRef } from "../image-ref.js";
import { describeIssues } from "../zod-issues.js";

export const layerRefSchema = z.object({
  /** sha256 of the layer's uncompressed tar; its object's name in the layer store */
  digest: z.string().regex(DIGEST_PATTERN, "a layer digest is sha256: and 64 lower-case hex digits"),
  /** bytes of the uncompressed tar */
  size: z.number().int().nonnegative(),
});
export type LayerRef = z.infer<typeof layerRefSchema>;

/** What the cell knows about one pushed image: its layers bottom first, and how to run it. */
export const imageRecordSchema = z.object({
  name: z.string().min(1),
  tag: z.string().min(1),
  layers: z.array(layerRefSchema).min(1, "an image has at least one layer"),
  config: imageConfigSchema,
  pushedAt: z.iso.datetime(),
});
export type ImageRecord = z.infer<typeof imageRecordSchema>;

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
