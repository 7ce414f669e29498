import { jobSpecSchema, type JobSpec } from "@corral/contracts";
import type { z } from "zod";
import { parseBorgSource } from "./borg-parser.js";
import { IssueList, SpecError, type SourcePosition } from "./errors.js";
import { formatFromFileName, KNOWN_EXTENSIONS, SPEC_FORMATS, type SpecFormat } from "./format.js";
import { normalizeJob, type NormalizedJob } from "./normalize.js";
import type { RawJob } from "./raw-value.js";
import { parseYamlSource } from "./yaml-source.js";

export interface ParseJobSpecOptions {
  /** Used in every error message; also picks the format when `format` is not given. */
  file: string;
  format?: SpecFormat;
}

/**
 * Source text of one job → a validated JobSpec. Throws SpecError, and only SpecError, for
 * anything wrong with the input; each issue names the file, line and field.
 */
export function parseJobSpec(source: string, options: ParseJobSpecOptions): JobSpec {
  const issues: IssueList = new IssueList(options.file);
  const format = options.format ?? formatFromFileName(options.file);
  if (format === undefined) {
    issues.fail(
      `cannot tell the spec format from the file name; use a ${KNOWN_EXTENSIONS.join(", ")} file, or pass format (${SPEC_FORMATS.join(", ")})`,
    );
  }
  if (!SPEC_FORMATS.includes(format)) {
    issues.fail(`unknown spec format '${String(format)}'; use one of ${SPEC_FORMATS.join(", ")}`);
  }

  const text = source.startsWith("\uFEFF") ? source.slice(1) : source;
  const raw: RawJob = format === "borg" ? parseBorgSource(text, issues) : parseYamlSource(text, issues, format);
  const normalized = normalizeJob(raw, issues, format);
  const result = jobSpecSchema.safeParse(normalized.candidate);
  if (!result.success) {
    for (const issue of result.error.issues) reportSchemaIssue(issue, normalized, issues);
    reportLabelCount(result.error.issues, normalized, issues);
  }
  issues.throwIfAny();
  if (!result.success) throw new SpecError([{ file: options.file, message: result.error.message }]);
  return result.data;
}

function reportSchemaIssue(issue: z.core.$ZodIssue, normalized: NormalizedJob, issues: IssueList): void {
  const path = issue.path.map(String).join(".");
  // The normalizer already said what is wrong with this field (or its block) in source terms.
  for (const reported of normalized.reported) {
    if (isWithin(path, reported)) return;
    // Something in this block could not be read, so what the schema says of the block may be
    // an echo of that; but a map's entries are independent, and too many is still too many.
    if (isWithin(reported, path) && !OPAQUE_KEYS.includes(path)) return;
  }
  if (issue.code === "invalid_key") {
    // A bad key (`labels.bad key`): its message is the key schema's, and it points at the key.
    issues.add(issue.issues[0]?.message ?? issue.message, normalized.keyPositions.get(path) ?? nearestPosition(path, normalized.positions), labelFor(path, normalized.labels));
    return;
  }
  issues.add(issue.message, nearestPosition(path, normalized.positions), labelFor(path, normalized.labels));
}

/**
 * The schema counts the labels only when each of them is valid, so a bad label would hide that
 * there are too many. Count them again on stand-ins, so that both are said at once.
 */
function reportLabelCount(found: readonly z.core.$ZodIssue[], normalized: NormalizedJob, issues: IssueList): void {
  const labels = normalized.candidate.labels;
  if (typeof labels !== "object" || labels === null) return;
  if (!found.some((issue) => issue.path[0] === "labels" && issue.path.length > 1)) return;
  if (found.some((issue) => issue.path[0] === "labels" && issue.path.length === 1)) return;
  const standIns = Object.fromEntries(Object.keys(labels).map((_, index) => [`l${index}`, ""]));
  const counted = jobSpecSchema.shape.labels.safeParse(standIns);
  if (counted.success) return;
  for (const issue of counted.error.issues) reportSchemaIssue({ ...issue, path: ["labels", ...issue.path] }, normalized, issues);
}

/** Maps whose keys are the user's own and may hold dots (`labels.app.kubernetes.io/name`): a key is one segment. */
const OPAQUE_KEYS = ["labels"];

function isWithin(path: string, ancestor: string): boolean {
  if (ancestor === "" || path === ancestor) return true;
  // `labels.app` is not within `labels.app.kubernetes.io/name`'s block: they are two labels.
  if (OPAQUE_KEYS.some((map) => ancestor.startsWith(`${map}.`))) return false;
  return path.startsWith(`${ancestor}.`);
}

/** The position of the field, or of the closest enclosing block that was written. */
function nearestPosition(path: string, positions: ReadonlyMap<string, SourcePosition>): SourcePosition | undefined {
  let current = path;
  for (;;) {
    const position = positions.get(current);
    if (position !== undefined) return position;
    if (current === "") return undefined;
    const dot = current.lastIndexOf(".");
    current = dot === -1 ? "" : current.slice(0, dot);
  }
}

function labelFor(path: string, labels: ReadonlyMap<string, string>): string {
  const exact = labels.get(path);
  if (exact !== undefined) return exact;
  const [head = "", ...rest] = path.split(".");
  const renamed = labels.get(head);
  return renamed === undefined ? path : [renamed, ...rest].join(".");
}
