import { isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type Scalar, type YAMLMap, type YAMLSeq } from "yaml";
import type { IssueList, SourcePosition } from "./errors.js";
import type { RawEntry, RawList, RawMap, RawNull, RawValue } from "./raw-value.js";
import { MAX_NESTING } from "./nesting-guard.js";


export function positionAt(lines: LineCounter, offset: number): SourcePosition {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

/**
 * The YAML library's nodes → the raw tree, each value with its position. Duplicate keys are
 * found here rather than by the library, so the message can name both lines.
 */
export class YamlTreeReader {
  constructor(
    private readonly source: string,
    private readonly issues: IssueList,
    /** "YAML" or "JSON", as messages call the syntax */
    private readonly label: string,
    private readonly lines: LineCounter,
  ) {}

  convert(node: Node | null, path: string[], depth: number, fallback?: SourcePosition): RawValue {
    const position = node?.range ? positionAt(this.lines, node.range[0]) : (fallback ?? { line: 1, column: 1 });
    const field = path.join(".");
    if (depth > MAX_NESTING) return this.issues.fail(`values are nested more than ${MAX_NESTING} levels deep`, position, field);
    if (node === null) return { kind: "null", position };
    if (isAlias(node)) {
      return this.issues.fail(`${this.label} aliases (*${node.source}) are not supported in a job spec; write the value out`, position, field);
    }
    // `!` alone is YAML's "plain string" tag, and `!!str` and friends resolve to full tag names.
    const tag = node.tag;
    if (tag !== undefined && tag.startsWith("!") && tag !== "!") return this.refuseTag(node, tag, position, field);
    if (isScalar(node)) return this.scalar(node, position, field);
    if (isSeq(node)) return this.list(node, path, depth, position);
    if (isMap(node)) return this.map(node, path, depth, position);
    return this.issues.fail(`unsupported ${this.label} node; use maps, lists, strings, numbers and booleans`, position, field);
  }

  /** `op: !=` reads as the tag `!=` on an empty value; say so rather than let it become ''. */
  private refuseTag(node: Node, tag: string, position: SourcePosition, field: string): RawNull {
    const start = node.range ? this.source.lastIndexOf(tag, node.range[0]) : -1;
    const tagPosition = start === -1 ? position : positionAt(this.lines, start);
    const written = start !== -1 && node.range && isScalar(node) ? this.source.slice(start, node.range[1]).trim() : "";
    const fix = written === "" ? "remove it" : `to write it as text, quote it: '${written.replaceAll("'", "''")}'`;
    this.issues.add(`'${tag}' is read as a ${this.label} tag here, and a job spec uses no tags; ${fix}`, tagPosition, field);
    return { kind: "null", position: tagPosition };
  }

  private scalar(node: Scalar, position: SourcePosition, field: string): RawValue {
    const value = node.value;
    if (value === null || value === undefined) return { kind: "null", position };
    if (typeof value === "string") return { kind: "string", value, position };
    if (typeof value === "boolean") return { kind: "boolean", value, position };
    if (typeof value === "number") {
      // As written, so `1.0` stays `1.0` when it becomes an argument.
      const text = node.range ? this.source.slice(node.range[0], node.range[1]).trim() : String(value);
      return { kind: "number", value, text: text === "" ? String(value) : text, position };
    }
    return this.issues.fail(`unsupported ${this.label} value of type ${typeof value}; use a string, number or boolean`, position, field);
  }

  private list(node: YAMLSeq, path: string[], depth: number, position: SourcePosition): RawList {
    return {
      kind: "list",
      position,
      items: node.items.map((item, index) => this.convert(item as Node | null, [...path, String(index)], depth + 1, position)),
    };
  }

  private map(node: YAMLMap, path: string[], depth: number, position: SourcePosition): RawMap {
    const field = path.join(".");
    const map: RawMap = { kind: "map", entries: [], position };
    const seen = new Map<string, RawEntry>();
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const keyPosition = keyNode?.range ? positionAt(this.lines, keyNode.range[0]) : position;
      if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === "object") {
        this.issues.fail("a field name must be a plain word or string", keyPosition, field);
      }
      const key = String(keyNode.value);
      const value = this.convert(pair.value as Node | null, [...path, key], depth + 1, keyPosition);
      const entry: RawEntry = { key, keyPosition, value };
      const earlier = seen.get(key);
      if (earlier === undefined) {
        seen.set(key, entry);
        map.entries.push(entry);
      } else {
        this.issues.add(
          `duplicate key '${key}' (first set on line ${earlier.keyPosition.line}, again on line ${keyPosition.line}); keep only one`,
          keyPosition,
          [...path, key].join("."),
        );
      }
    }
    return map;
  }
}
