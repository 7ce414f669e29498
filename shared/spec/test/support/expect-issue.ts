import type { ExecutionContext } from "ava";
import { parseJobSpec, SpecError, type SpecIssue } from "../../index.js";

/** The SpecError a source must produce; every issue names the file. */
export function fail(t: ExecutionContext, source: string, file: string): SpecError {
  const error = t.throws(() => parseJobSpec(source, { file }), { instanceOf: SpecError });
  if (error === undefined) throw new Error("expected a SpecError");
  for (const issue of error.issues) t.is(issue.file, file);
  return error;
}

/** The one issue a source produces. */
export function issue(t: ExecutionContext, source: string, file: string): SpecIssue {
  const error = fail(t, source, file);
  t.is(error.issues.length, 1, error.message);
  const [only] = error.issues;
  if (only === undefined) throw new Error("no issue");
  return only;
}

/** Source text from lines. */
export const lines = (...text: string[]) => `${text.join("\n")}\n`;
