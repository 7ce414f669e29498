import type { JobKind } from "@corral/contracts";
import type { SourcePosition } from "./errors.js";

/**
 * The syntax-neutral tree both front ends (Borg and YAML/JSON) produce. Every value keeps
 * where it came from, so the normalizer and the schema check can point at the right line
 * whichever syntax the user wrote.
 */
export type RawValue = RawString | RawNumber | RawQuantity | RawBoolean | RawNull | RawList | RawMap;

export interface RawString {
  kind: "string";
  value: string;
  position: SourcePosition;
}

export interface RawNumber {
  kind: "number";
  value: number;
  /** As written, so `1.0` stays `1.0` when it becomes an argument. */
  text: string;
  position: SourcePosition;
}

/** A number with a unit glued on (`100M`, `5s`, `250m`); only the field knows which unit family applies. */
export interface RawQuantity {
  kind: "quantity";
  text: string;
  position: SourcePosition;
}

export interface RawBoolean {
  kind: "boolean";
  value: boolean;
  position: SourcePosition;
}

/** YAML's empty value (`ram:` with nothing after it); Borg has no way to write one. */
export interface RawNull {
  kind: "null";
  position: SourcePosition;
}

export interface RawList {
  kind: "list";
  items: RawValue[];
  position: SourcePosition;
}

export interface RawEntry {
  key: string;
  keyPosition: SourcePosition;
  value: RawValue;
}

/** Entries in source order; duplicates are rejected by the front ends. */
export interface RawMap {
  kind: "map";
  entries: RawEntry[];
  position: SourcePosition;
}

/** A job as a front end found it: the name, where it was, and the body. */
export interface RawJob {
  name: RawValue | undefined;
  /**
   * What the header said the spec is: Borg's `job`/`alloc` keyword, or YAML's `job:`/`alloc:`
   * key (`keyword`, at `position`). Absent when the source did not say (YAML `name:`).
   */
  declared?: { kind: JobKind; keyword: string; position: SourcePosition };
  /** Where the job starts, for errors about fields that are missing altogether. */
  position: SourcePosition;
  body: RawMap;
}

/** How a value is described in an error message: "a string ('five')", "a list". */
export function describeRaw(value: RawValue): string {
  switch (value.kind) {
    case "string":
      return `a string (${JSON.stringify(truncate(value.value))})`;
    case "number":
      return `a number (${value.text})`;
    case "quantity":
      return `a quantity (${value.text})`;
    case "boolean":
      return `a boolean (${String(value.value)})`;
    case "null":
      return "an empty value";
    case "list":
      return "a list";
    case "map":
      return "a map";
  }
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
