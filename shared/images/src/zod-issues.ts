import type { z } from "zod";

/** A zod failure as one line: where in the document, and what was wrong there. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length === 0 ? "(top level)" : issue.path.join(".")}: ${issue.message}`)
    .join("; ");
}
