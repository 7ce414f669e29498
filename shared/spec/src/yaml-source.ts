import { LineCounter, parseAllDocuments, type Node, type YAMLError } from "yaml";
import { SpecError, type IssueList } from "./errors.js";
import type { RawJob, RawMap } from "./raw-value.js";
import { refuseDeepNesting } from "./nesting-guard.js";
import { positionAt, YamlTreeReader } from "./yaml-tree.js";

/**
 * Reads a YAML or JSON spec into the raw tree. JSON goes through the YAML parser too (JSON is
 * YAML 1.2), which gives both syntaxes the same node ranges and so the same line numbers.
 * Key checks (duplicates in yaml-tree.ts, the name here) are done by us rather than by the
 * library, so the messages can name both lines and the field.
 */
export function parseYamlSource(source: string, issues: IssueList, format: "yaml" | "json"): RawJob {
  const label = syntaxName(format);
  const lines = new LineCounter();
  refuseDeepNesting(source, issues);
  const contents = readOnlyDocument(source, issues, format, lines);
  const root = new YamlTreeReader(source, issues, label, lines).convert(contents, [], 0);
  if (root.kind !== "map") {
    return issues.fail(`a job spec is a ${label} map of fields, not a ${root.kind}; e.g. ${example(format)}`, root.position);
  }
  issues.throwIfAny();
  return takeName(root, issues);
}

/** The contents of the file's one document; stops at syntax errors, an empty file or a second document. */
function readOnlyDocument(source: string, issues: IssueList, format: "yaml" | "json", lines: LineCounter): Node {
  const label = syntaxName(format);
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
    for (const error of document.errors) issues.add(syntaxMessage(label, error), positionAt(lines, error.pos[0]));
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
      positionAt(lines, second.range?.[0] ?? 0),
    );
  }
  return first.contents;
}

/** The name (`job:`, `alloc:` or `name:`) and what the header key says the spec is, taken out of the body. */
function takeName(body: RawMap, issues: IssueList): RawJob {
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

function syntaxName(format: "yaml" | "json"): string {
  return format === "json" ? "JSON" : "YAML";
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
