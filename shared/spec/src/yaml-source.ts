import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node, type YAMLError } from "yaml";
import { SpecError, type IssueList, type SourcePosition } from "./errors.js";
import type { RawEntry, RawJob, RawMap, RawValue } from "./raw-value.js";

const MAX_NESTING = 64;

/**
 * Reads a YAML or JSON spec into the raw tree. JSON goes through the YAML parser too (JSON is
 * YAML 1.2), which gives both syntaxes the same node ranges and so the same line numbers.
 * Key checks (duplicates, the name) are done here rather than by the library, so the
 * messages can name both lines and the field.
 */
export function parseYamlSource(source: string, issues: IssueList, format: "yaml" | "json"): RawJob {
  const label = format === "json" ? "JSON" : "YAML";
  const lines = new LineCounter();
  const at = (offset: number): SourcePosition => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };

  let documents: ReturnType<typeof parseAllDocuments>;
  try {
    documents = parseAllDocuments(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  } catch (error) {
    // The library reports problems as document errors; a throw means it hit something it
    // did not expect, and the user still deserves an answer that names the file.
    if (error instanceof SpecError) throw error;
    return issues.fail(`could not read this ${label}: ${error instanceof Error ? error.message : String(error)}`, { line: 1, column: 1 });
  }

  for (const document of documents) {
    for (const error of document.errors) issues.add(syntaxMessage(label, error), at(error.pos[0]));
  }
  issues.throwIfAny();

  const [first, second] = documents;
  if (first === undefined || first.contents === null) {
    return issues.fail(
      `no job or alloc set found; the file is empty. A job spec is a ${label} map, e.g. ${example(format)}; an alloc set has ${format === "json" ? '"alloc": "NAME"' : "alloc: NAME"} in place of the job's name`,
      { line: 1, column: 1 },
    );
  }
  if (second !== undefined) {
    issues.fail(
      `a file holds exactly one job or alloc set, and a second ${label} document starts here; put each in its own file`,
      at(second.range?.[0] ?? 0),
    );
  }

  const root = convert(first.contents, [], 0);
  if (root.kind !== "map") {
    return issues.fail(`a job spec is a ${label} map of fields, not a ${root.kind}; e.g. ${example(format)}`, root.position);
  }
  issues.throwIfAny();
  return takeName(root);

  function convert(node: Node | null, path: string[], depth: number, fallback?: SourcePosition): RawValue {
    const position = node?.range ? at(node.range[0]) : (fallback ?? { line: 1, column: 1 });
    const field = path.join(".");
    if (depth > MAX_NESTING) return issues.fail(`values are nested more than ${MAX_NESTING} levels deep`, position, field);
    if (node === null) return { kind: "null", position };
    if (isAlias(node)) {
      return issues.fail(`${label} aliases (*${node.source}) are not supported in a job spec; write the value out`, position, field);
    }
    // `op: !=` reads as the tag `!=` on an empty value; say so rather than let it become ''.
    // (`!` alone is YAML's "plain string" tag, and `!!str` and friends resolve to full tag names.)
    const tag = node.tag;
    if (tag !== undefined && tag.startsWith("!") && tag !== "!") {
      const start = node.range ? source.lastIndexOf(tag, node.range[0]) : -1;
      const tagPosition = start === -1 ? position : at(start);
      const written = start !== -1 && node.range && isScalar(node) ? source.slice(start, node.range[1]).trim() : "";
      const fix = written === "" ? "remove it" : `to write it as text, quote it: '${written.replaceAll("'", "''")}'`;
      issues.add(`'${tag}' is read as a ${label} tag here, and a job spec uses no tags; ${fix}`, tagPosition, field);
      return { kind: "null", position: tagPosition };
    }
    if (isScalar(node)) {
      const value = node.value;
      if (value === null || value === undefined) return { kind: "null", position };
      if (typeof value === "string") return { kind: "string", value, position };
      if (typeof value === "boolean") return { kind: "boolean", value, position };
      if (typeof value === "number") {
        const text = node.range ? source.slice(node.range[0], node.range[1]).trim() : String(value);
        return { kind: "number", value, text: text === "" ? String(value) : text, position };
      }
      return issues.fail(`unsupported ${label} value of type ${typeof value}; use a string, number or boolean`, position, field);
    }
    if (isSeq(node)) {
      return {
        kind: "list",
        position,
        items: node.items.map((item, index) => convert(item as Node | null, [...path, String(index)], depth + 1, position)),
      };
    }
    if (isMap(node)) {
      const map: RawMap = { kind: "map", entries: [], position };
      const seen = new Map<string, RawEntry>();
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const keyPosition = keyNode?.range ? at(keyNode.range[0]) : position;
        if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === "object") {
          issues.fail("a field name must be a plain word or string", keyPosition, field);
        }
        const key = String(keyNode.value);
        const value = convert(pair.value as Node | null, [...path, key], depth + 1, keyPosition);
        const entry: RawEntry = { key, keyPosition, value };
        const earlier = seen.get(key);
        if (earlier === undefined) {
          seen.set(key, entry);
          map.entries.push(entry);
        } else {
          issues.add(
            `duplicate key '${key}' (first set on line ${earlier.keyPosition.line}, again on line ${keyPosition.line}); keep only one`,
            keyPosition,
            [...path, key].join("."),
          );
        }
      }
      return map;
    }
    return issues.fail(`unsupported ${label} node; use maps, lists, strings, numbers and booleans`, position, field);
  }

  /** The name (`job:`, `alloc:` or `name:`) and what the header key says the spec is, taken out of the body. */
  function takeName(body: RawMap): RawJob {
    const headers = body.entries.filter((entry) => entry.key === "job" || entry.key === "alloc");
    const [header, otherHeader] = headers;
    if (header !== undefined && otherHeader !== undefined) {
      issues.fail(
        `give either 'job' (a job, which runs a program) or 'alloc' (an alloc set, which reserves resources for jobs to run in), not both; ` +
          `found '${header.key}' on line ${header.keyPosition.line} and '${otherHeader.key}' on line ${otherHeader.keyPosition.line}`,
        otherHeader.keyPosition,
        otherHeader.key,
      );
    }
    const noun = header?.key === "alloc" ? "alloc set" : "job";
    const names = body.entries.filter((entry) => entry === header || entry.key === "name");
    const [name, other] = names;
    if (name !== undefined && other !== undefined) {
      issues.fail(
        `the ${noun}'s name is given twice, as '${name.key}' (line ${name.keyPosition.line}) and '${other.key}' (line ${other.keyPosition.line}); keep one`,
        other.keyPosition,
        other.key,
      );
    }
    const job: RawJob = {
      name: name?.value,
      position: body.position,
      body: { ...body, entries: body.entries.filter((entry) => entry !== name) },
    };
    if (header !== undefined) job.declared = { kind: header.key === "alloc" ? "alloc" : "job", keyword: header.key, position: header.keyPosition };
    return job;
  }
}

function syntaxMessage(label: string, error: YAMLError): string {
  const detail = error.message.replace(/\s+/g, " ").trim();
  return `${label} syntax error: ${detail}${/[.;]$/.test(detail) ? "" : ";"} check the quoting and indentation here`;
}

function example(format: "yaml" | "json"): string {
  return format === "json"
    ? `{"job": "hello_world", "binary": "server", "requirements": {"ram": "100M", "cpu": 0.5}, "replicas": 1}`
    : "job: hello_world, binary: server, requirements: { ram: 100M, cpu: 0.5 }, replicas: 1 (one field per line)";
}
