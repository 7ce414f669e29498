import type { JobKind } from "@corral/contracts";
import type { IssueList, SourcePosition } from "./errors.js";
import { LIST_ITEMS, NOT_IN_ALLOC, SOURCE_LABELS, SPEC_NAMES } from "./field-names.js";
import type { SpecFormat } from "./format.js";
import type { RawEntry, RawMap } from "./raw-value.js";
import { healthHint, notInAlloc, runtimeHint, suggestField } from "./refused-field-hints.js";

/**
 * What every reader of one job shares: where each JobSpec path was written and what the user
 * called it, what has been reported, and the few facts one block needs from another (the kind,
 * the name, the health check's port). The readers are free functions taking this context, one
 * file per part of the spec; what stays here is what they all need: reporting and the check of
 * a block's field names.
 */
export class NormalizeContext {
  /** JobSpec path (`requirements.cpu`, `args.0`, `` for the job) → where its value was written. */
  readonly positions = new Map<string, SourcePosition>();
  /** JobSpec path of a map entry (`labels.tier`) → where its key was written, for problems with the key itself. */
  readonly keyPositions = new Map<string, SourcePosition>();
  /** JobSpec path → the field as the user wrote it, where they differ (`gracePeriodMs` → `grace`). */
  readonly labels = new Map<string, string>(SOURCE_LABELS);
  /** JobSpec paths already reported, so the schema check does not report them twice. */
  readonly reported = new Set<string>();
  /** Whether this is a job or an alloc set; settled before any field is read. */
  kind: JobKind = "job";
  /** The name as written, for examples (`alloc_set = 'web_allocs'`); a placeholder when it is not a string. */
  name = "NAME";
  /** Set when `kind:` could not be read or contradicts the header, so the fields of neither kind are demanded. */
  kindUnsure = false;
  /** Which of the task's ports the health check uses, when it has one and it could be read. */
  checkPort: number | undefined;

  constructor(
    private readonly issues: IssueList,
    readonly format: SpecFormat,
    readonly jobPosition: SourcePosition,
  ) {
    this.positions.set("", jobPosition);
  }

  /** `job` or `alloc set`, as messages name what is being read. */
  get noun(): string {
    return this.kind === "alloc" ? "alloc set" : "job";
  }

  /**
   * The entries of a block by key; unknown keys are reported and dropped. Empty YAML values count as absent.
   * `specPrefix` is where the block's fields sit in JobSpec, when that differs from the source (`health.http` is `health.check`).
   */
  fields(map: RawMap, allowed: readonly string[], prefix: string, specPrefix = prefix): Map<string, RawEntry> {
    const known = new Map<string, RawEntry>();
    for (const entry of map.entries) {
      const path = prefix === "" ? entry.key : `${prefix}.${entry.key}`;
      if (prefix === "" && this.kind === "alloc" && NOT_IN_ALLOC.includes(entry.key)) {
        // With the kind in doubt, the field may well be right (in a job): leave it to the kind's error.
        if (this.kindUnsure) this.reported.add(this.jobSpecPath(path));
        else this.report(this.jobSpecPath(path), notInAlloc(this.format, this.name, entry.key), entry.keyPosition, path);
        continue;
      }
      if (!allowed.includes(entry.key)) {
        const item = /^([a-z_]+)\.\d+$/.exec(prefix);
        const itemNoun = item === null ? undefined : LIST_ITEMS.get(item[1] ?? "");
        const where = prefix === "" ? (this.kind === "alloc" ? "an alloc set" : "a job") : itemNoun === undefined ? prefix : `${prefix} (${itemNoun})`;
        const header = this.kind === "alloc" ? "alloc NAME = { ... }" : "job NAME = { ... }";
        const nameHint =
          prefix === "" && (entry.key === "name" || entry.key === "job") && this.format === "borg"
            ? ` The ${this.noun}'s name goes in the header: ${header}.`
            : prefix === "" && entry.key === "kind" && this.format === "borg"
              ? " The header says what this is: job NAME = { ... } for a job, alloc NAME = { ... } for an alloc set."
              : item?.[1] === "constraints" && entry.key === "weight"
                ? " Constraints are hard rules; a block with a weight is a preference, so move it to preferences."
                : (healthHint(this.format, prefix, entry.key) ?? runtimeHint(this.format, prefix, entry) ?? suggestField(entry.key, allowed));
        // Labelled as written: `maxSkew` must not be shown as the `spread.max_skew` it is not.
        this.report(path, `unknown field '${entry.key}' in ${where}.${nameHint} Allowed: ${allowed.join(", ")}`, entry.keyPosition, path);
        continue;
      }
      // An empty optional field is as good as an absent one; required ones go on to be reported by their reader.
      if (entry.value.kind === "null" && this.isOptional(path)) continue;
      this.positions.set(this.jobSpecPath(specPrefix === "" ? entry.key : `${specPrefix}.${entry.key}`), entryPosition(entry));
      known.set(entry.key, entry);
    }
    return known;
  }

  private isOptional(path: string): boolean {
    if (/^(constraints|preferences)\.\d+\.(attribute|op)$/.test(path) || /^volumes\.\d+\.path$/.test(path)) return false;
    // `http:` with nothing after it in YAML is an http check with the defaults, not no check.
    return ![
      "binary",
      "requirements",
      "replicas",
      "requirements.ram",
      "requirements.cpu",
      "spread.across",
      "health.http",
      "health.tcp",
      "health.exec",
      "health.exec.command",
    ].includes(path);
  }

  /** `max_per_machine` → `maxPerMachine`, `constraints.0.value` → `constraints.0.values`. */
  jobSpecPath(sourcePath: string): string {
    const dot = sourcePath.lastIndexOf(".");
    const last = sourcePath.slice(dot + 1);
    const renamed = SPEC_NAMES.get(last);
    return renamed === undefined ? sourcePath : `${sourcePath.slice(0, dot + 1)}${renamed}`;
  }

  /** The field's own name as the user wrote it: `max_skew` for `spread.maxSkew`. */
  sourceKey(path: string): string {
    const label = this.labels.get(path) ?? path;
    return label.slice(label.lastIndexOf(".") + 1);
  }

  /** A required field left out: reported where its block was written, or at the job when the block is the job. */
  missing(path: string, help: string): void {
    const parent = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
    this.report(path, `is missing; ${help}`, this.positions.get(parent) ?? this.jobPosition);
  }

  /** Adds the issue, and marks the JobSpec path as said, so the schema check stays quiet about it. */
  report(path: string, message: string, position: SourcePosition, label = this.labels.get(path) ?? path): void {
    this.reported.add(path);
    this.issues.add(message, position, label);
  }
}

/** Where errors about a field point: the key for blocks and lists, so `requirements:` in YAML, not its first entry. */
export function entryPosition(entry: RawEntry): SourcePosition {
  return entry.value.kind === "map" || entry.value.kind === "list" ? entry.keyPosition : entry.value.position;
}

/** Source order, for saying which of two conflicting fields came second. */
export function comparePositions(a: SourcePosition, b: SourcePosition): number {
  return a.line - b.line || a.column - b.column;
}
