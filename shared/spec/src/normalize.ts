import { highestPortReference, PRIORITY_BANDS, RESTART_POLICIES } from "@corral/contracts";
import type { IssueList, SourcePosition } from "./errors.js";
import { exampleBlock, exampleField, num, qty, str, type Literal, type SpecFormat } from "./format.js";
import { describeRaw, type RawEntry, type RawJob, type RawMap, type RawValue } from "./raw-value.js";
import { didYouMean } from "./suggest.js";
import { parseCpu, parseDuration, parseSize } from "./units.js";

export const DEFAULT_PRIORITY = "production";
export const DEFAULT_RESTART = "always";
export const DEFAULT_GRACE_MS = 10_000;

const JOB_FIELDS = ["runtime", "binary", "args", "env", "requirements", "replicas", "priority", "restart", "grace", "user"] as const;
const RUNTIME_FIELDS = ["cell"] as const;
const REQUIREMENT_FIELDS = ["ram", "disk", "cpu", "ports"] as const;

/**
 * The candidate JobSpec plus what is needed to explain a schema failure in source terms:
 * where each field was written and what the user called it.
 */
export interface NormalizedJob {
  /** Shaped like JobSpec, but not validated; fields that could not be read are left out. */
  candidate: Record<string, unknown>;
  /** JobSpec path (`requirements.cpu`, `args.0`, `` for the job) → where its value was written. */
  positions: Map<string, SourcePosition>;
  /** JobSpec path → the field as the user wrote it, where they differ (`gracePeriodMs` → `grace`). */
  labels: Map<string, string>;
  /** JobSpec paths already reported, so the schema check does not report them twice. */
  reported: Set<string>;
}

/**
 * Turns the raw tree into a JobSpec-shaped object: checks field names and value kinds,
 * converts units, applies defaults. Range checks are left to the zod schema, the single
 * place that defines what a valid job is.
 */
export function normalizeJob(job: RawJob, issues: IssueList, format: SpecFormat): NormalizedJob {
  return new Normalizer(issues, format, job.position).run(job);
}

/** Where errors about a field point: the key for blocks and lists, so `requirements:` in YAML, not its first entry. */
function entryPosition(entry: RawEntry): SourcePosition {
  return entry.value.kind === "map" || entry.value.kind === "list" ? entry.keyPosition : entry.value.position;
}

class Normalizer {
  private readonly positions = new Map<string, SourcePosition>();
  private readonly labels = new Map<string, string>([["gracePeriodMs", "grace"]]);
  private readonly reported = new Set<string>();

  constructor(
    private readonly issues: IssueList,
    private readonly format: SpecFormat,
    private readonly jobPosition: SourcePosition,
  ) {
    this.positions.set("", jobPosition);
  }

  run(job: RawJob): NormalizedJob {
    const candidate: Record<string, unknown> = {};
    const fields = this.fields(job.body, JOB_FIELDS, "");

    if (job.name === undefined || job.name.kind === "null") {
      this.report("name", "the job has no name; add job: hello_world (YAML/JSON also accept name:)", this.jobPosition);
    } else {
      this.positions.set("name", job.name.position);
      candidate.name = this.string(job.name, "name", str("hello_world"));
    }

    const user = fields.get("user");
    if (user !== undefined) candidate.user = this.string(user.value, "user", str("alice"));

    candidate.runtime = {};
    const runtime = fields.get("runtime");
    if (runtime !== undefined) {
      const map = this.map(runtime.value, "runtime", exampleBlock(this.format, "runtime", [["cell", str("local")]]));
      if (map !== undefined) {
        const runtimeFields = this.fields(map, RUNTIME_FIELDS, "runtime");
        const cell = runtimeFields.get("cell");
        if (cell !== undefined) candidate.runtime = { cell: this.string(cell.value, "runtime.cell", str("local")) };
      }
    }

    const binary = fields.get("binary");
    if (binary === undefined) {
      this.missing("binary", `add the program to run, e.g. ${exampleField(this.format, "binary", str("hello_world_webserver"))}`);
    } else {
      candidate.binary = this.string(binary.value, "binary", str("hello_world_webserver"));
    }

    const args = fields.get("args");
    candidate.args = args === undefined ? [] : this.args(args.value);
    const env = fields.get("env");
    candidate.env = env === undefined ? {} : this.env(env.value);

    candidate.requirements = this.requirements(fields.get("requirements"), candidate);

    const replicas = fields.get("replicas");
    if (replicas === undefined) {
      this.missing("replicas", `add how many tasks to run, e.g. ${exampleField(this.format, "replicas", num("3"))}`);
    } else {
      candidate.replicas = this.count(replicas.value, "replicas", "3");
    }

    candidate.priority = this.choice(fields.get("priority"), "priority", PRIORITY_BANDS, DEFAULT_PRIORITY);
    candidate.restart = this.choice(fields.get("restart"), "restart", RESTART_POLICIES, DEFAULT_RESTART);

    const grace = fields.get("grace");
    candidate.gracePeriodMs = grace === undefined ? DEFAULT_GRACE_MS : this.duration(grace.value, "gracePeriodMs", "30s");

    return { candidate, positions: this.positions, labels: this.labels, reported: this.reported };
  }

  private requirements(entry: RawEntry | undefined, candidate: Record<string, unknown>): Record<string, unknown> | undefined {
    const example = exampleBlock(this.format, "requirements", [
      ["ram", qty("100M")],
      ["cpu", num("0.5")],
    ]);
    if (entry === undefined) {
      this.missing("requirements", `every job states what a task needs, e.g. ${example}`);
      return undefined;
    }
    const map = this.map(entry.value, "requirements", example);
    if (map === undefined) return undefined;
    const fields = this.fields(map, REQUIREMENT_FIELDS, "requirements");
    const requirements: Record<string, unknown> = {};

    const ram = fields.get("ram");
    if (ram === undefined) {
      this.missing("requirements.ram", `add the memory each task needs, e.g. ${exampleField(this.format, "ram", qty("100M"))}`);
    } else {
      requirements.ram = this.unit(ram.value, "requirements.ram", parseSize, qty("100M"));
    }
    const disk = fields.get("disk");
    requirements.disk = disk === undefined ? 0 : this.unit(disk.value, "requirements.disk", parseSize, qty("1G"));
    const cpu = fields.get("cpu");
    if (cpu === undefined) {
      this.missing("requirements.cpu", `add the cores each task needs, e.g. ${exampleField(this.format, "cpu", num("0.5"))}`);
    } else {
      requirements.cpu = this.unit(cpu.value, "requirements.cpu", parseCpu, num("0.5"));
    }
    const ports = fields.get("ports");
    if (ports === undefined) {
      // Enough ports for every placeholder used, so the common case needs no `ports` at all.
      const texts = [...(candidate.args as string[]), ...Object.values(candidate.env as Record<string, string>)];
      requirements.ports = Math.max(-1, ...texts.map(highestPortReference)) + 1;
    } else {
      requirements.ports = this.count(ports.value, "requirements.ports", "2");
    }
    return requirements;
  }

  private args(value: RawValue): string[] {
    if (value.kind === "null") return [];
    if (value.kind === "list") {
      const args: string[] = [];
      value.items.forEach((item, index) => {
        const path = `args.${index}`;
        this.positions.set(path, item.position);
        const text = this.scalarText(item, path, "an argument");
        if (text !== undefined) args.push(text);
      });
      return args;
    }
    if (value.kind === "map") {
      // A map is a set of flags, in source order, as in the Borg lecture's `args = { port = '%port%' }`.
      const args: string[] = [];
      for (const entry of value.entries) {
        const path = `args.${args.length}`;
        this.positions.set(path, entry.value.position);
        this.labels.set(path, `args.${entry.key}`);
        if (entry.value.kind === "boolean" && entry.value.value) {
          args.push(`--${entry.key}`);
          continue;
        }
        const text = this.scalarText(entry.value, path, "a flag value");
        if (text !== undefined) args.push(`--${entry.key}=${text}`);
      }
      return args;
    }
    this.report(
      "args",
      `expected a list of arguments or a map of flags, found ${describeRaw(value)}; e.g. ${exampleField(this.format, "args", { kind: "verbatim", text: this.format === "borg" ? "['--port=%port%']" : '["--port=%port%"]' })}`,
      value.position,
    );
    return [];
  }

  private env(value: RawValue): Record<string, string> {
    // No prototype, so a variable called `constructor` is just a variable.
    const env: Record<string, string> = Object.create(null) as Record<string, string>;
    if (value.kind === "null") return env;
    if (value.kind !== "map") {
      this.report(
        "env",
        `expected a map of variable names to values, found ${describeRaw(value)}; e.g. ${exampleBlock(this.format, "env", [["GREETING", str("hi")]])}`,
        value.position,
      );
      return env;
    }
    for (const entry of value.entries) {
      const path = `env.${entry.key}`;
      this.positions.set(path, entry.value.position);
      if (entry.key === "__proto__") {
        this.report(path, "'__proto__' cannot be used as a variable name; rename it", entry.keyPosition);
        continue;
      }
      const text = this.scalarText(entry.value, path, "an environment value");
      if (text !== undefined) env[entry.key] = text;
    }
    return env;
  }

  /** Text for args and env, where `8080` and `true` are as good as '8080' and 'true'. */
  private scalarText(value: RawValue, path: string, what: string): string | undefined {
    switch (value.kind) {
      case "string":
        return value.value;
      case "number":
      case "quantity":
        return value.text;
      case "boolean":
        return String(value.value);
      default:
        this.report(path, `${what} must be a string, number or boolean, not ${describeRaw(value)}`, value.position);
        return undefined;
    }
  }

  private string(value: RawValue, path: string, example: Literal): string | undefined {
    this.positions.set(path, value.position);
    if (value.kind === "string") return value.value;
    const key = path.split(".").pop() ?? path;
    const found = describeRaw(value);
    const written = value.kind === "number" || value.kind === "quantity" ? value.text : value.kind === "boolean" ? String(value.value) : undefined;
    // A number or boolean where text belongs usually just needs quotes, so say exactly that.
    const fix = written === undefined ? `e.g. ${exampleField(this.format, key, example)}` : `quote it: ${exampleField(this.format, key, { kind: "string", text: this.format === "yaml" ? `'${written}'` : written })}`;
    this.report(path, `expected a ${this.format === "borg" ? "quoted " : ""}string, found ${found}; ${fix}`, value.position);
    return undefined;
  }

  private map(value: RawValue, path: string, example: string): RawMap | undefined {
    if (value.kind === "map") return value;
    if (value.kind === "null") return { kind: "map", entries: [], position: value.position };
    this.report(path, `expected a block of fields, found ${describeRaw(value)}; e.g. ${example}`, value.position);
    return undefined;
  }

  /** Sizes and CPU: a plain number is already in the base unit, text carries its own unit. */
  private unit(value: RawValue, path: string, parse: (text: string | number) => number, example: Literal): number | undefined {
    const key = path.split(".").pop() ?? path;
    if (value.kind !== "number" && value.kind !== "quantity" && value.kind !== "string") {
      this.report(path, `expected an amount, found ${describeRaw(value)}; e.g. ${exampleField(this.format, key, example)}`, value.position);
      return undefined;
    }
    try {
      return parse(value.kind === "number" ? value.value : value.kind === "string" ? value.value : value.text);
    } catch (error) {
      this.report(path, (error as Error).message, value.position);
      return undefined;
    }
  }

  private duration(value: RawValue, path: string, example: string): number | undefined {
    const key = this.labels.get(path) ?? path;
    if (value.kind === "number" && value.value !== 0) {
      this.report(path, `${value.text} needs a unit; e.g. ${exampleField(this.format, key, qty(example))} (ms, s, m and h work)`, value.position);
      return undefined;
    }
    return this.unit(value, path, parseDuration, qty(example));
  }

  private count(value: RawValue, path: string, example: string): number | undefined {
    if (value.kind === "number" && Number.isInteger(value.value)) return value.value;
    const key = path.split(".").pop() ?? path;
    this.report(path, `expected a whole number, found ${describeRaw(value)}; e.g. ${exampleField(this.format, key, num(example))}`, value.position);
    return undefined;
  }

  private choice(entry: RawEntry | undefined, path: string, allowed: readonly string[], fallback: string): string | undefined {
    if (entry === undefined || entry.value.kind === "null") return fallback;
    const value = entry.value;
    const options = allowed.map((option) => `'${option}'`).join(", ");
    if (value.kind === "string" && allowed.includes(value.value)) return value.value;
    const found = value.kind === "string" ? `'${value.value}'` : describeRaw(value);
    const hint = value.kind === "string" ? didYouMean(value.value, allowed) : "";
    this.report(path, `${found} is not a valid ${path}; use one of ${options} (default '${fallback}').${hint}`, value.position);
    return undefined;
  }

  /** The entries of a block by key; unknown keys are reported and dropped. Empty YAML values count as absent. */
  private fields(map: RawMap, allowed: readonly string[], prefix: string): Map<string, RawEntry> {
    const known = new Map<string, RawEntry>();
    for (const entry of map.entries) {
      const path = prefix === "" ? entry.key : `${prefix}.${entry.key}`;
      if (!allowed.includes(entry.key)) {
        const where = prefix === "" ? "a job" : prefix;
        const nameHint =
          prefix === "" && (entry.key === "name" || entry.key === "job") && this.format === "borg"
            ? " The job's name goes in the header: job NAME = { ... }."
            : didYouMean(entry.key, allowed);
        this.report(path, `unknown field '${entry.key}' in ${where}.${nameHint} Allowed: ${allowed.join(", ")}`, entry.keyPosition);
        continue;
      }
      // An empty optional field is as good as an absent one; required ones go on to be reported by their reader.
      if (entry.value.kind === "null" && this.isOptional(path)) continue;
      this.positions.set(this.jobSpecPath(path), entryPosition(entry));
      known.set(entry.key, entry);
    }
    return known;
  }

  private isOptional(path: string): boolean {
    return !["binary", "requirements", "replicas", "requirements.ram", "requirements.cpu"].includes(path);
  }

  private jobSpecPath(sourcePath: string): string {
    return sourcePath === "grace" ? "gracePeriodMs" : sourcePath;
  }

  private missing(path: string, help: string): void {
    const parent = path.includes(".") ? path.slice(0, path.lastIndexOf(".")) : "";
    this.report(path, `is missing; ${help}`, this.positions.get(parent) ?? this.jobPosition);
  }

  private report(path: string, message: string, position: SourcePosition): void {
    this.reported.add(path);
    this.issues.add(message, position, this.labels.get(path) ?? path);
  }
}
