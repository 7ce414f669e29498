import { FEDERATION_FIELDS, FIELD_ALIASES, RUNTIME_FIELDS } from "./field-names.js";
import { block, exampleBlock, exampleField, list, num, qty, str, type Literal, type SpecFormat } from "./format.js";
import type { RawEntry } from "./raw-value.js";
import { closest, didYouMean } from "./suggest.js";

/**
 * What to tell someone whose field the field check refuses: an unknown name is usually a
 * near miss or a field written in the wrong block, and a field an alloc set cannot have
 * belongs in a job. Pure functions of the syntax being written, so every message shows its
 * examples the way the user would type them.
 */

/** How the refusal names what goes with the program: `put the program and its restart policy in a job ...`. */
const RUNNING_FIELD_NAMES: ReadonlyMap<string, string> = new Map([
  ["image", "image"],
  ["volumes", "volumes"],
  ["health", "health check"],
  ["args", "args"],
  ["env", "env"],
  ["restart", "restart policy"],
  ["grace", "grace period"],
]);

/** Why a field that only a running program has is refused in an alloc set (named `name`), and where it goes instead. */
export function notInAlloc(format: SpecFormat, name: string, field: string): string {
  const inJob = exampleField(format, "alloc_set", str(name));
  const verb = field === "args" || field === "volumes" ? "are" : "is";
  const why = `${field} ${verb} not allowed in an alloc set: an alloc set reserves resources and runs nothing`;
  if (field === "alloc_set") return `${why}, so it cannot run inside another alloc set; alloc_set goes in a job, to run that job's tasks in an alloc set`;
  const along = RUNNING_FIELD_NAMES.get(field);
  return `${why}; put the program${along === undefined ? "" : ` and its ${along}`} in a job with ${inJob}`;
}

/** `http = { path = '/healthz' }`, `tcp = { port = 0 }` or `exec = { command = ['/bin/check'] }`, in the file's syntax. */
export function checkExamples(format: SpecFormat): string {
  return [
    exampleField(format, "http", block(["path", str("/healthz")])),
    exampleField(format, "tcp", block(["port", num("0")])),
    exampleField(format, "exec", block(["command", list(str("/bin/check"))])),
  ].join(", ");
}

/** For a field of a health check written in the wrong block: where it goes. */
export function healthHint(format: SpecFormat, prefix: string, key: string): string | undefined {
  const field = (name: string, value: Literal) => exampleField(format, name, value);
  const httpExample = field("http", block(["path", str("/healthz")], ["port", num("0")]));
  const execExample = field("exec", block(["command", list(str("/bin/check"))]));
  if (prefix === "health") {
    if (key === "path" || key === "port") return ` A check's ${key} goes in the check's block: ${httpExample}, or ${field("tcp", block(["port", num("0")]))}.`;
    if (key === "command" || key === "cmd") return ` A command goes in an exec check: ${execExample}.`;
    if (key === "type" || key === "check" || key === "kind") return ` Name the check by its kind instead: ${checkExamples(format)}.`;
    return undefined;
  }
  const check = /^health\.(http|tcp|exec)$/.exec(prefix)?.[1];
  if (check === undefined) return undefined;
  if (key === "path" && check !== "http") return ` Only an http check fetches a path: ${httpExample}.`;
  if ((key === "command" || key === "cmd") && check !== "exec") return ` Only an exec check runs a command: ${execExample}.`;
  if (key === "port" && check === "exec") return ` An exec check runs a command and uses no port; to check a port, use http or tcp.`;
  return undefined;
}

/** For a runtime field written outside the runtime block, or a near miss of cells written with a list: where it goes. */
export function runtimeHint(format: SpecFormat, prefix: string, entry: RawEntry): string | undefined {
  if (prefix === "") {
    const alias = FIELD_ALIASES.get(entry.key) ?? FIELD_ALIASES.get(entry.key.toLowerCase());
    const field = RUNTIME_FIELDS.find((name) => name === entry.key || name === alias);
    if (field === undefined) return undefined;
    const examples: Readonly<Record<(typeof RUNTIME_FIELDS)[number], Literal>> = {
      cell: str("local"),
      cells: list(str("us-east1"), str("us-west1")),
      policy: str("spread"),
      weights: list(num("2"), num("1")),
      spill_after: qty("30s"),
      max_disruption: num("1"),
    };
    const withCells: Array<[string, Literal]> = FEDERATION_FIELDS.some((name) => name === field) ? [["cells", examples.cells]] : [];
    const where = `in the runtime block: ${exampleBlock(format, "runtime", [...withCells, [field, examples[field]]])}.`;
    return field === entry.key ? ` ${field} goes ${where}` : ` Did you mean '${field}'? It goes ${where}`;
  }
  if (prefix === "runtime" && entry.value.kind === "list" && closest(entry.key, RUNTIME_FIELDS) === "cell") {
    return " Did you mean 'cells'? It lists a federated job's cells; cell names one cell.";
  }
  return undefined;
}

/** The hint for an unknown field: its snake_case spelling, a known synonym, or the closest name. */
export function suggestField(key: string, allowed: readonly string[]): string {
  const snake = key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
  if (snake !== key && allowed.includes(snake)) return ` Fields are spelled in snake_case here: '${snake}'.`;
  const alias = FIELD_ALIASES.get(key) ?? FIELD_ALIASES.get(key.toLowerCase());
  if (alias !== undefined && allowed.includes(alias) && closest(key, allowed) === undefined) return ` Did you mean '${alias}'?`;
  return didYouMean(key, allowed);
}
