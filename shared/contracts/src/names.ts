import { z } from "zod";

/**
 * Names end up inside NATS subjects, Redis keys and DNS labels, so they are restricted to
 * characters that are safe in all three: no dots (they separate subject tokens and the parts
 * of a job id), no wildcards, no spaces.
 */
export const NAME_PATTERN = /^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/;

export const nameSchema = (what: string) =>
  z
    .string()
    .regex(
      NAME_PATTERN,
      `${what} must be 1-63 lower-case letters, digits, '_' or '-', starting and ending with a letter or digit`,
    );

export const cellNameSchema = nameSchema("a cell name");
export const nodeNameSchema = nameSchema("a node name");
export const jobNameSchema = nameSchema("a job name");
export const userNameSchema = nameSchema("a user name");

/** `<job>.<user>.<cell>`, Borg's job naming. */
export function jobId(job: string, user: string, cell: string): string {
  return `${job}.${user}.${cell}`;
}

/** `<index>.<job>.<user>.<cell>`, Borg's task naming. */
export function taskId(index: number, jobIdentifier: string): string {
  return `${index}.${jobIdentifier}`;
}

export interface ParsedTaskId {
  index: number;
  job: string;
  user: string;
  cell: string;
  jobId: string;
}

export function parseTaskId(id: string): ParsedTaskId | undefined {
  const parts = id.split(".");
  if (parts.length !== 4) return undefined;
  const [indexText, job, user, cell] = parts as [string, string, string, string];
  if (!/^\d+$/.test(indexText)) return undefined;
  if (![job, user, cell].every((p) => NAME_PATTERN.test(p))) return undefined;
  return { index: Number(indexText), job, user, cell, jobId: jobId(job, user, cell) };
}

export const jobIdSchema = z
  .string()
  .refine((s) => {
    const parts = s.split(".");
    return parts.length === 3 && parts.every((p) => NAME_PATTERN.test(p));
  }, "a job id is <job>.<user>.<cell>, each part a lower-case name");

export const taskIdSchema = z.string().refine((s) => parseTaskId(s) !== undefined, "a task id is <index>.<job>.<user>.<cell>");

/**
 * An image reference, `name[:tag]` as Docker writes it: lower-case path components joined by
 * `/`, each letters and digits separated by `.`, `_` or `-`; a tag of up to 128 characters.
 */
export const IMAGE_REF_PATTERN = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/;
export const imageRefSchema = z
  .string()
  .max(255, "an image reference is longer than 255 characters")
  .regex(IMAGE_REF_PATTERN, "an image is name:tag, e.g. 'web:1.2' (lower-case name; letters, digits, '.', '_', '-'; the tag defaults to latest)");
