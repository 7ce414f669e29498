/** Where something sits in a source file; both 1-based, column in UTF-16 code units. */
export interface SourcePosition {
  line: number;
  column: number;
}

export interface SpecIssue {
  file: string;
  line?: number;
  column?: number;
  /** Dotted path of the field as the user wrote it, e.g. `requirements.ram`. */
  field?: string;
  message: string;
}

/** `file:line:col: field: message`, dropping the parts that are unknown. */
export function formatIssue(issue: SpecIssue): string {
  let where = issue.file;
  if (issue.line !== undefined) {
    where += `:${issue.line}`;
    if (issue.column !== undefined) where += `:${issue.column}`;
  }
  const field = issue.field === undefined || issue.field === "" ? "" : `${issue.field}: `;
  return `${where}: ${field}${issue.message}`;
}

function compareIssues(a: SpecIssue, b: SpecIssue): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

/**
 * Every problem found in a job spec. Callers show `message` to people and use `issues`
 * when they need the parts (an editor integration, a test).
 */
export class SpecError extends Error {
  readonly issues: SpecIssue[];

  constructor(issues: readonly SpecIssue[]) {
    if (issues.length === 0) throw new Error("SpecError needs at least one issue");
    // Stable sort: issues on one line keep the order they were found in.
    const sorted = [...issues].sort(compareIssues);
    super(sorted.map(formatIssue).join("\n"));
    this.name = "SpecError";
    this.issues = sorted;
  }
}

/** Collects issues for one file so the parsing code can stay free of bookkeeping. */
export class IssueList {
  readonly issues: SpecIssue[] = [];

  constructor(readonly file: string) {}

  add(message: string, position?: SourcePosition, field?: string): void {
    const issue: SpecIssue = { file: this.file, message };
    if (position !== undefined) {
      issue.line = position.line;
      issue.column = position.column;
    }
    if (field !== undefined && field !== "") issue.field = field;
    this.issues.push(issue);
  }

  get empty(): boolean {
    return this.issues.length === 0;
  }

  throwIfAny(): void {
    if (this.issues.length > 0) throw new SpecError(this.issues);
  }

  /** Throws right away: for problems after which nothing sensible can be parsed. */
  fail(message: string, position?: SourcePosition, field?: string): never {
    this.add(message, position, field);
    throw new SpecError(this.issues);
  }
}
