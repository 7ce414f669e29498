import { z } from "zod";
import { CorralError, jobIdSchema, MAX_REPLICAS } from "@corral/contracts";

/**
 * Where the next page of a paged answer starts, as an opaque `continue` token (Kubernetes'
 * name): a list goes on after a job id, a job's tasks from an index. Opaque, so clients pass
 * back what they were given and the position can change form later.
 */
const positionSchema = z.union([z.strictObject({ after: jobIdSchema }), z.strictObject({ tasksFrom: z.number().int().min(1).max(MAX_REPLICAS) })]);
type PagePosition = z.infer<typeof positionSchema>;

export function pageToken(position: PagePosition): string {
  return Buffer.from(JSON.stringify(position)).toString("base64url");
}

/** The position a token names, of the kind this route pages by; anything else is the caller's mistake, named. */
export function readPageToken<K extends "after" | "tasksFrom">(token: string, kind: K): Extract<PagePosition, Record<K, unknown>> {
  let position: PagePosition | undefined;
  try {
    const parsed = positionSchema.safeParse(JSON.parse(Buffer.from(token, "base64url").toString("utf8")));
    if (parsed.success) position = parsed.data;
  } catch {
    // not JSON: refused below
  }
  if (position === undefined || !(kind in position)) {
    throw new CorralError("bad_request", "continue: not a token this API gave for this list; ask again without continue to start from the beginning", "continue");
  }
  return position as Extract<PagePosition, Record<K, unknown>>;
}
