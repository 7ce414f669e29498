// A text check several parts of the job spec share. Not re-exported from index.ts: it is how
// the spec's schemas are written, not part of the spec.
import { z } from "zod";

export const safeText = (what: string, max: number) =>
  z
    .string()
    .max(max, `${what} is longer than ${max} characters`)
    .refine((s) => !s.includes("\0"), `${what} must not contain NUL characters`);
