import { readFile } from "node:fs/promises";
import type { z } from "zod";
import { ImageError, messageOf } from "../errors.js";
import { describeIssues } from "../zod-issues.js";

/** Largest JSON document an archive may hand us (manifests and configs are a few KiB). */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

/** Parses bytes of a manifest, index or config, naming the file in every complaint. */
export function parseJsonDocument<T extends z.ZodType>(bytes: Buffer, schema: T, file: string, what: string): z.infer<T> {
  if (bytes.length > MAX_JSON_BYTES) throw new ImageError("bad_manifest", `${file} is too large to be ${what} (${bytes.length} bytes)`, file);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new ImageError("bad_manifest", `${file} should be ${what} but is not JSON (${messageOf(error)})`, file);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ImageError("bad_manifest", `${file} is not ${what}: ${describeIssues(parsed.error)}`, file);
  return parsed.data;
}

export async function readJsonDocument<T extends z.ZodType>(file: string, schema: T, what: string): Promise<z.infer<T>> {
  return parseJsonDocument(await readFile(file), schema, file, what);
}
