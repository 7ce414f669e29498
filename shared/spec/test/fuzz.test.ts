import {
  CONSTRAINT_OPERATORS,
  DEFAULT_HEALTH_FAILURES,
  DEFAULT_HEALTH_INTERVAL_MS,
  DEFAULT_HEALTH_TIMEOUT_MS,
  DEFAULT_PREFERENCE_WEIGHT,
  FEDERATION_POLICIES,
  IMAGE_REF_PATTERN,
  jobSpecSchema,
  LABEL_KEY_PATTERN,
  LABEL_VALUE_PATTERN,
  MAX_DISRUPTION,
  MAX_FEDERATED_CELLS,
  MAX_FEDERATION_WEIGHT,
  MAX_LABELS,
  MAX_PORTS_PER_TASK,
  MAX_REPLICAS,
  MAX_SPILL_AFTER_MS,
  MAX_VOLUMES,
  MIN_SPILL_AFTER_MS,
  NAME_PATTERN,
  OPERATOR_ARITY,
  PRIORITY_BANDS,
  RESTART_POLICIES,
  SPREAD_DOMAINS,
  type Constraint,
  type ConstraintOperator,
  type Health,
  type HealthCheck,
  type JobRuntime,
  type JobSpec,
  type Preference,
  type Volume,
} from "@corral/contracts";
import test from "ava";
import fc from "fast-check";
import { stringify } from "yaml";
import { DEFAULT_GRACE_MS, DEFAULT_RESTART, parseJobSpec, SpecError, type SpecFormat } from "../index.js";
import { printBorg, quoteBorg, type BorgStyle } from "./support/print-borg.js";
import {
  ALLOC_BORG,
  ALLOC_JSON,
  ALLOC_YAML,
  EXEC_CHECKED_JSON,
  EXEC_CHECKED_YAML,
  FEDERATED_BORG,
  FEDERATED_JSON,
  FEDERATED_YAML,
  FILL_BORG,
  FILL_JSON,
  FILL_YAML,
  FULL_BORG,
  FULL_JSON,
  FULL_YAML,
  IN_ALLOC_BORG,
  IN_ALLOC_YAML,
  SEED_BORG,
  SEED_JSON,
  SEED_YAML,
  TCP_CHECKED_BORG,
} from "./support/sources.js";

const FORMATS: SpecFormat[] = ["borg", "yaml", "json"];
/** A single parse taking this long would mean something quadratic or worse is going on. */
const SLOW_MS = 1000;

/** Parses, and fails the property on anything but success or a SpecError, or on slowness. */
function parsesOrSpecError(source: string, format: SpecFormat): boolean {
  const started = performance.now();
  try {
    parseJobSpec(source, { file: `fuzz.${format}`, format });
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    if (error.issues.length === 0 || error.issues.some((issue) => issue.file !== `fuzz.${format}` || issue.message === "")) {
      throw new Error(`malformed SpecError: ${error.message}`);
    }
  }
  const elapsed = performance.now() - started;
  if (elapsed > SLOW_MS) throw new Error(`parsing took ${Math.round(elapsed)} ms`);
  return true;
}

const BORG_PIECES = [
  "job", "j", "hello_world", "=", "{", "}", "[", "]", ",", ";", "\n", " ", "'s'", '"s"', "'", '"', "\\", "100M", "1.5G", "5s",
  "250m", "0.1", "-1", "1e9", "true", "false", "//c\n", "#c\n", "/*", "*/", "binary", "requirements", "ram", "cpu", "ports",
  "args", "env", "replicas", "grace", "priority", "restart", "runtime", "cell", "'%port%'", "'%port9%'", ":", ".", "\t", "\r",
  "constraints", "preferences", "spread", "max_per_machine", "attribute", "op", "value", "values", "weight", "across", "max_skew",
  "'=='", "'!='", "'in'", "'not_in'", "'exists'", "'not_exists'", "'rack'", "'machine'", "'arch'", "==", "!=", "!", "[ {", "} ]", "}, {",
  "alloc", "alloc_set", "'web_allocs'", "kind", "'alloc'",
  "image", "'web:1.2'", "'Web::'", "volumes", "host", "volume", "path", "read_only", "'/data'", "'cache'", "'..'", "[ { volume = 'c' path = '/d' } ]",
  "health", "http", "tcp", "exec", "command", "interval", "timeout", "failures", "{ http = {} }", "{ tcp = { port = 1 } }", "['/bin/check']", "1h", "9999",
  "labels", "tier", "'web'", "'app.kubernetes.io/name'", "app.kubernetes.io/name", "a/b", "'bad key'", "'-x'", "{ tier = 'web' }", "{ 'a.b' = 'c' }", "'bad value!'", "''",
  "cells", "policy", "weights", "spill_after", "max_disruption", "'spread'", "'fill'", "'pin'", "['a', 'b']", "[2, 1]", "['a', 'a']", "[]", "30s", "{ cells = ['a'] }",
];

test("random text never throws anything but SpecError", (t) => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 300 }), fc.constantFrom(...FORMATS), parsesOrSpecError),
    { numRuns: 400 },
  );
  t.pass();
});

test("random Borg token soup never throws anything but SpecError", (t) => {
  const soup = fc.array(fc.constantFrom(...BORG_PIECES), { maxLength: 80 }).map((pieces) => pieces.join(" "));
  const anchored = fc.tuple(fc.constantFrom("job", "alloc"), soup).map(([keyword, body]) => `${keyword} j = { ${body} }`);
  fc.assert(fc.property(fc.oneof(soup, anchored), (source) => parsesOrSpecError(source, "borg")), { numRuns: 400 });
  t.pass();
});

type Mutation = { kind: "delete" | "insert" | "duplicate" | "replace"; at: number; length: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom("delete", "insert", "duplicate", "replace"),
  at: fc.nat(),
  length: fc.nat({ max: 12 }),
  text: fc.oneof(fc.string({ unit: "binary", maxLength: 6 }), fc.constantFrom(...BORG_PIECES), fc.constantFrom("  ", "- ", ": ", "&a", "*a", "!!str", "? ", "---\n", "{", "[")),
});

function mutate(source: string, mutations: readonly Mutation[]): string {
  let text = source;
  for (const { kind, at, length, text: piece } of mutations) {
    const start = at % (text.length + 1);
    const end = Math.min(text.length, start + length);
    if (kind === "delete") text = text.slice(0, start) + text.slice(end);
    else if (kind === "insert") text = text.slice(0, start) + piece + text.slice(start);
    else if (kind === "duplicate") text = text.slice(0, end) + text.slice(start, end) + text.slice(end);
    else text = text.slice(0, start) + piece + text.slice(start + piece.length);
  }
  return text;
}

test("mutations of valid sources never throw anything but SpecError", (t) => {
  const valid: Array<[string, SpecFormat]> = [
    [SEED_BORG, "borg"],
    [FULL_BORG, "borg"],
    [SEED_YAML, "yaml"],
    [FULL_YAML, "yaml"],
    [SEED_JSON, "json"],
    [FULL_JSON, "json"],
    [ALLOC_BORG, "borg"],
    [ALLOC_YAML, "yaml"],
    [ALLOC_JSON, "json"],
    [IN_ALLOC_BORG, "borg"],
    [IN_ALLOC_YAML, "yaml"],
    [TCP_CHECKED_BORG, "borg"],
    [EXEC_CHECKED_YAML, "yaml"],
    [EXEC_CHECKED_JSON, "json"],
    [FEDERATED_BORG, "borg"],
    [FEDERATED_YAML, "yaml"],
    [FEDERATED_JSON, "json"],
    [FILL_BORG, "borg"],
    [FILL_YAML, "yaml"],
    [FILL_JSON, "json"],
  ];
  for (const [source, format] of valid) t.notThrows(() => parseJobSpec(source, { file: "valid", format }));
  fc.assert(
    fc.property(fc.constantFrom(...valid), fc.array(mutation, { minLength: 1, maxLength: 4 }), ([source, format], mutations) =>
      parsesOrSpecError(mutate(source, mutations), format),
    ),
    { numRuns: 800 },
  );
});

// --- Round trip --------------------------------------------------------------------------------

const name = fc.stringMatching(NAME_PATTERN);
/** Any text without NUL, which the schema refuses; quotes, backslashes and newlines included. */
const text = fc.string({ unit: "binary", maxLength: 20 }).filter((s) => !s.includes("\0"));
const awkwardText = fc.oneof(text, fc.constantFrom("it's", 'say "hi"', "a\\b", "line\nbreak", "tab\there", "// not a comment", "#", "/* x */", "%port", "100%"));

const attribute = fc.stringMatching(/^[A-Za-z0-9_.-]{1,63}$/);
/** Constraint values: any non-empty text, and often plain integers (written bare, they must come back as text). */
const constraintValue = fc.oneof(
  awkwardText.filter((s) => s.length > 0),
  fc.nat({ max: 99_999 }).map(String),
  fc.constantFrom("x86_64", "r1", "true", "!=", "== x", "a, b", "[a]", "{}"),
);

function valuesFor(op: ConstraintOperator): fc.Arbitrary<string[]> {
  const arity = OPERATOR_ARITY[op];
  if (arity === "one") return constraintValue.map((value) => [value]);
  if (arity === "many") return fc.array(constraintValue, { minLength: 1, maxLength: 4 });
  return fc.constant([]);
}

const constraint: fc.Arbitrary<Constraint> = fc
  .record({ attribute, op: fc.constantFrom(...CONSTRAINT_OPERATORS) })
  .chain(({ attribute, op }) => valuesFor(op).map((values) => ({ attribute, op, values })));

const preference: fc.Arbitrary<Preference> = fc
  .tuple(constraint, fc.oneof(fc.constant(DEFAULT_PREFERENCE_WEIGHT), fc.integer({ min: 1, max: 100 })))
  .map(([c, weight]) => ({ ...c, weight }));

const imageRef = fc.stringMatching(IMAGE_REF_PATTERN).filter((s) => s.length <= 255);
/** An absolute path inside the container: any text after the '/', but no '..' component. */
const containerPath = fc
  .oneof(awkwardText.map((s) => `/${s}`), fc.constantFrom("/", "/data", "/var/lib/it's", "/a b/..c", "//x/"))
  .filter((path) => !path.split("/").includes(".."));

const volume: fc.Arbitrary<Volume> = fc
  .record({
    host: fc.option(containerPath, { nil: undefined }),
    name: fc.stringMatching(/^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/),
    path: containerPath,
    readOnly: fc.boolean(),
  })
  .map(({ host, name, path, readOnly }) => (host === undefined ? { volume: name, path, readOnly } : { host, path, readOnly }));

/** Label keys and values within the rules, often ones a syntax could misread: quoted keys, numbers, YAML words. */
const labelKey = fc.oneof(
  fc.stringMatching(LABEL_KEY_PATTERN),
  fc.constantFrom("tier", "app.kubernetes.io/name", "team-x", "a/b/c", "1", "0.5", "1e3", "true", "on", "null", "y", "x".repeat(63)),
);
const labelValue = fc.oneof(fc.stringMatching(LABEL_VALUE_PATTERN), fc.constantFrom("", "web", "2", "1.10", "-1", "true", "no", "null", "Null", ".", "1e3", "x".repeat(63)));
const labels = fc.oneof(
  fc.dictionary(labelKey, labelValue, { maxKeys: 4 }),
  fc.dictionary(labelKey, labelValue, { minKeys: MAX_LABELS - 2, maxKeys: MAX_LABELS }),
);

const portIndex = fc.oneof(fc.constant(0), fc.nat({ max: MAX_PORTS_PER_TASK - 1 }));
const healthCheck: fc.Arbitrary<HealthCheck> = fc.oneof(
  fc.record({ type: fc.constant("http" as const), path: fc.oneof(fc.constant("/"), containerPath, awkwardText.map((s) => `/${s}`)), port: portIndex }),
  fc.record({ type: fc.constant("tcp" as const), port: portIndex }),
  fc.record({ type: fc.constant("exec" as const), command: fc.array(awkwardText, { minLength: 1, maxLength: 4 }) }),
);

/** Timings at their defaults or anywhere the schema allows, with the timeout never longer than the interval. */
const health: fc.Arbitrary<Health> = fc
  .record({
    check: healthCheck,
    intervalMs: fc.oneof(fc.constant(DEFAULT_HEALTH_INTERVAL_MS), fc.integer({ min: 100, max: 3_600_000 }), fc.constantFrom(1000, 60_000, 3_600_000)),
    timeout: fc.oneof(fc.constant(DEFAULT_HEALTH_TIMEOUT_MS), fc.integer({ min: 10, max: 600_000 })),
    failures: fc.oneof(fc.constant(DEFAULT_HEALTH_FAILURES), fc.integer({ min: 1, max: 100 })),
  })
  .map(({ check, intervalMs, timeout, failures }) => ({ check, intervalMs, timeoutMs: Math.min(timeout, intervalMs), failures }));

/**
 * A federated runtime: 1 to 16 distinct cells (one under pin), each setting present or left out,
 * weights (one per cell) only under spread, stated or by default.
 */
const federatedRuntime: fc.Arbitrary<JobRuntime> = fc
  .record({
    cells: fc.oneof(fc.uniqueArray(name, { minLength: 1, maxLength: 4 }), fc.uniqueArray(name, { minLength: MAX_FEDERATED_CELLS, maxLength: MAX_FEDERATED_CELLS })),
    policy: fc.option(fc.constantFrom(...FEDERATION_POLICIES), { nil: undefined }),
    weights: fc.option(fc.array(fc.oneof(fc.constantFrom(1, MAX_FEDERATION_WEIGHT), fc.integer({ min: 1, max: MAX_FEDERATION_WEIGHT })), { minLength: MAX_FEDERATED_CELLS, maxLength: MAX_FEDERATED_CELLS }), { nil: undefined }),
    spillAfterMs: fc.option(fc.oneof(fc.constantFrom(MIN_SPILL_AFTER_MS, 30_000, 90_000, MAX_SPILL_AFTER_MS), fc.integer({ min: MIN_SPILL_AFTER_MS, max: MAX_SPILL_AFTER_MS })), { nil: undefined }),
    maxDisruption: fc.option(fc.oneof(fc.constantFrom(1, MAX_DISRUPTION), fc.integer({ min: 1, max: MAX_DISRUPTION })), { nil: undefined }),
  })
  .map(({ cells, policy, weights, spillAfterMs, maxDisruption }) => {
    const runtime: JobRuntime = { cells: policy === "pin" ? cells.slice(0, 1) : cells };
    if (policy !== undefined) runtime.policy = policy;
    if (weights !== undefined && (policy === undefined || policy === "spread")) runtime.weights = weights.slice(0, cells.length);
    if (spillAfterMs !== undefined) runtime.spillAfterMs = spillAfterMs;
    if (maxDisruption !== undefined) runtime.maxDisruption = maxDisruption;
    return runtime;
  });

/** No cell (the one submitted to), one cell, or a federation of them. */
const runtime: fc.Arbitrary<JobRuntime> = fc.oneof(fc.constant({}), name.map((cell) => ({ cell })), federatedRuntime);

/**
 * What the generated spec is: a job; an alloc set (nothing to run, so no binary, args, env or
 * ports, and restart and grace at their defaults); or a job in an alloc set (placed by the
 * alloc set, so no constraints, preferences, spread or max_per_machine of its own).
 */
type Shape = "job" | "alloc" | "in-alloc-set";

const validSpec: fc.Arbitrary<JobSpec> = fc
  .record({
    shape: fc.constantFrom<Shape>("job", "job", "alloc", "in-alloc-set"),
    allocSet: name,
    name,
    user: fc.option(name, { nil: undefined }),
    runtime,
    binary: awkwardText.filter((s) => s.length > 0),
    args: fc.array(fc.oneof(awkwardText, fc.nat({ max: 15 }).map((n) => `--p=%port${n === 0 ? "" : n}%`)), { maxLength: 5 }),
    env: fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/), awkwardText, { maxKeys: 4 }),
    extraPorts: fc.nat({ max: 3 }),
    ram: fc.oneof(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 2 ** 20 }).map((n) => n * 2 ** 20)),
    disk: fc.oneof(fc.constant(0), fc.maxSafeNat(), fc.integer({ min: 1, max: 2 ** 20 }).map((n) => n * 2 ** 30)),
    cpu: fc.oneof(fc.double({ min: 0.001, max: 1024, noNaN: true }), fc.integer({ min: 1, max: 4000 }).map((n) => n / 1000)),
    replicas: fc.integer({ min: 1, max: 100_000 }),
    priority: fc.constantFrom(...PRIORITY_BANDS),
    restart: fc.constantFrom(...RESTART_POLICIES),
    gracePeriodMs: fc.integer({ min: 0, max: 3_600_000 }),
    constraints: fc.oneof(fc.array(constraint, { maxLength: 4 }), fc.array(constraint, { minLength: 30, maxLength: 32 })),
    preferences: fc.array(preference, { maxLength: 4 }),
    spread: fc.option(
      fc.oneof(
        fc.record({ across: fc.constantFrom(...SPREAD_DOMAINS), maxSkew: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: MAX_REPLICAS })) }),
        fc.constant("none" as const),
      ),
      { nil: undefined },
    ),
    maxPerMachine: fc.option(fc.integer({ min: 1, max: MAX_REPLICAS }), { nil: undefined }),
    image: fc.option(imageRef, { nil: undefined }),
    volumes: fc.oneof(fc.array(volume, { maxLength: 3 }), fc.array(volume, { minLength: MAX_VOLUMES, maxLength: MAX_VOLUMES })),
    health: fc.option(health, { nil: undefined }),
    labels,
  })
  .map(({ shape, allocSet, user, runtime, extraPorts, ram, disk, cpu, spread, maxPerMachine, image, volumes, health, labels, ...rest }) => {
    const texts = [...rest.args, ...Object.values(rest.env)];
    const highest = Math.max(-1, ...texts.flatMap((s) => [...s.matchAll(/%port(\d*)%/g)].map((m) => (m[1] ? Number(m[1]) : 0))));
    // The health check's port must be one of the task's ports.
    const checkPort = health === undefined || health.check.type === "exec" ? -1 : health.check.port;
    const spec: JobSpec = {
      ...rest,
      kind: "job",
      // An alloc set, and a job in one, live in one cell.
      runtime: shape !== "job" && runtime.cells !== undefined ? { cell: runtime.cells[0] ?? "local" } : runtime,
      env: { ...rest.env },
      // A plain object, as the parser gives back, whatever prototype the generator chose.
      labels: { ...labels },
      requirements: { ram, disk, cpu, ports: Math.max(checkPort + 1, Math.min(16, highest + 1 + extraPorts)) },
      // Volumes are mounted into an image's root filesystem, so only a job with an image has them.
      volumes: image === undefined ? [] : volumes,
    };
    if (user !== undefined) spec.user = user;
    if (image !== undefined) spec.image = image;
    if (health !== undefined) spec.health = health;
    if (shape === "alloc") {
      const { image: _image, health: _health, ...job } = spec;
      return {
        ...job,
        kind: "alloc",
        binary: "",
        args: [],
        env: {},
        requirements: { ...spec.requirements, ports: 0 },
        restart: DEFAULT_RESTART,
        gracePeriodMs: DEFAULT_GRACE_MS,
        volumes: [],
      };
    }
    if (shape === "in-alloc-set") return { ...spec, constraints: [], preferences: [], allocSet };
    if (spread !== undefined) spec.spread = spread;
    if (maxPerMachine !== undefined) spec.maxPerMachine = maxPerMachine;
    return spec;
  });

const style: fc.Arbitrary<BorgStyle> = fc.record({
  quote: fc.constantFrom("'" as const, '"' as const),
  separator: fc.constantFrom("\n" as const, ", " as const, "; " as const, " " as const),
  suffixes: fc.boolean(),
  comments: fc.boolean(),
  omitDefaults: fc.boolean(),
  bareNumbers: fc.boolean(),
  quoteKeys: fc.boolean(),
});

test("a valid spec printed as Borg parses back to the same JobSpec", (t) => {
  fc.assert(
    fc.property(validSpec, style, (spec, layout) => {
      const source = printBorg(spec, layout);
      t.deepEqual(parseJobSpec(source, { file: "roundtrip.borg" }), spec, source);
    }),
    { numRuns: 300 },
  );
});

/** A constraint as written in a source: `value` for == and !=, `values` for in and not_in, neither for exists. */
function constraintSource({ values, ...rest }: Constraint | Preference): Record<string, unknown> {
  const arity = OPERATOR_ARITY[rest.op];
  return arity === "one" ? { ...rest, value: values[0] } : arity === "many" ? { ...rest, values } : rest;
}

/**
 * How a YAML/JSON source says what it is: under `job:`/`alloc:`, or under `name:` with or
 * without `kind:`, and with `kind:` repeating what the header key says.
 */
type Header = "key" | "name" | "name-and-kind" | "key-and-kind";

/**
 * The source-syntax field names: `grace` rather than gracePeriodMs, snake_case, the name under
 * `job` or `alloc` (or `name`). An alloc set leaves out what only a running program has.
 */
function toSource(spec: JobSpec, header: Header): Record<string, unknown> {
  const { name, kind, binary, args, env, restart, gracePeriodMs, constraints, preferences, spread, maxPerMachine, allocSet, volumes, health, runtime, ...rest } = spec;
  const alloc = kind === "alloc";
  // A job written with `name:` alone is a job by default; an alloc set needs `kind: alloc` then.
  const withKind = header === "name-and-kind" || header === "key-and-kind" || (header === "name" && alloc);
  const source: Record<string, unknown> = header === "key" || header === "key-and-kind" ? { [kind]: name } : { name };
  if (withKind) source.kind = kind;
  const { spillAfterMs, maxDisruption, ...settings } = runtime;
  source.runtime = { ...settings };
  if (spillAfterMs !== undefined) Object.assign(source.runtime as object, { spill_after: `${spillAfterMs}ms` });
  if (maxDisruption !== undefined) Object.assign(source.runtime as object, { max_disruption: maxDisruption });
  Object.assign(source, alloc ? rest : { binary, args, env, ...rest, restart, grace: `${gracePeriodMs}ms` });
  source.constraints = constraints.map(constraintSource);
  source.preferences = preferences.map(constraintSource);
  if (spread === "none") source.spread = "none";
  else if (spread !== undefined) source.spread = { across: spread.across, max_skew: spread.maxSkew };
  if (maxPerMachine !== undefined) source.max_per_machine = maxPerMachine;
  if (allocSet !== undefined) source.alloc_set = allocSet;
  if (!alloc) source.volumes = volumes.map(({ readOnly, ...where }) => ({ ...where, read_only: readOnly }));
  if (health !== undefined) {
    const { type, ...check } = health.check;
    source.health = { [type]: check, interval: `${health.intervalMs}ms`, timeout: `${health.timeoutMs}ms`, failures: health.failures };
  }
  return source;
}

test("a valid spec written as YAML or JSON parses back to the same JobSpec", (t) => {
  const header = fc.constantFrom<Header>("key", "name", "name-and-kind", "key-and-kind");
  fc.assert(
    fc.property(validSpec, header, fc.boolean(), (spec, how, asJson) => {
      const written = toSource(spec, how);
      const source = asJson ? JSON.stringify(written, null, 2) : stringify(written);
      t.deepEqual(parseJobSpec(source, { file: asJson ? "roundtrip.json" : "roundtrip.yaml" }), spec, source);
    }),
    { numRuns: 300 },
  );
});

test("the round-trip generator makes alloc sets and jobs in alloc sets, not only jobs", (t) => {
  const specs = fc.sample(validSpec, { numRuns: 200, seed: 1 });
  t.true(specs.some((spec) => spec.kind === "alloc"));
  t.true(specs.some((spec) => spec.kind === "job" && spec.allocSet !== undefined));
  t.true(specs.some((spec) => spec.kind === "job" && spec.allocSet === undefined));
  t.true(specs.some((spec) => spec.image !== undefined && spec.volumes.some((v) => v.host !== undefined) && spec.volumes.some((v) => v.volume !== undefined)));
  for (const type of ["http", "tcp", "exec"]) t.true(specs.some((spec) => spec.health?.check.type === type), type);
  t.true(specs.some((spec) => spec.kind === "alloc" && Object.keys(spec.labels).length > 0));
  t.true(specs.some((spec) => Object.keys(spec.labels).some((key) => /[./]/.test(key))), "a label key Borg must quote");
  t.true(specs.some((spec) => Object.keys(spec.labels).length === MAX_LABELS));
  t.true(specs.some((spec) => spec.runtime.cell !== undefined) && specs.some((spec) => Object.keys(spec.runtime).length === 0));
  for (const policy of [undefined, ...FEDERATION_POLICIES]) t.true(specs.some((spec) => spec.runtime.cells !== undefined && spec.runtime.policy === policy), `policy ${policy}`);
  t.true(specs.some((spec) => spec.runtime.weights !== undefined && spec.runtime.spillAfterMs !== undefined && spec.runtime.maxDisruption !== undefined));
  t.true(specs.some((spec) => spec.runtime.cells?.length === MAX_FEDERATED_CELLS));
  // What the schema allows of each, so the properties above test valid specs only.
  for (const spec of specs) t.true(jobSpecSchema.safeParse(spec).success, JSON.stringify(spec));
});

// --- Constraint blocks: any mix of fields, judged against the rules written out here ------------

type DraftScalar = string | number;
type DraftValue = DraftScalar | DraftScalar[];
interface Draft {
  attribute?: string;
  op?: string;
  value?: DraftValue;
  values?: DraftValue;
  weight?: number;
}
type Kind = "constraints" | "preferences";

const draftScalar: fc.Arbitrary<DraftScalar> = fc.oneof(fc.constantFrom("x86_64", "r1", "it's", "!=", "", "a b"), fc.nat({ max: 999 }));
const draftValue: fc.Arbitrary<DraftValue> = fc.oneof(draftScalar, fc.array(draftScalar, { maxLength: 3 }));
const anyDraft: fc.Arbitrary<Draft> = fc.record(
  {
    attribute: fc.constantFrom("arch", "kernel.version", "A-1_b", "", "bad name", "x".repeat(64)),
    op: fc.constantFrom(...CONSTRAINT_OPERATORS, ...CONSTRAINT_OPERATORS, "=", "eq", "IN", "not in"),
    value: draftValue,
    values: draftValue,
    weight: fc.constantFrom(1, 10, 100, 0, 101, 2.5),
  },
  { requiredKeys: [] },
);
/** Blocks written the way the operator wants, so that accepted specs are exercised as much as refused ones. */
const wellFormedDraft: fc.Arbitrary<Draft> = fc
  .record({
    attribute: fc.oneof(attribute, fc.constantFrom("arch", "rack")),
    op: fc.constantFrom(...CONSTRAINT_OPERATORS),
    one: fc.oneof(fc.constantFrom("x86_64", "it's", "!="), fc.nat({ max: 999 })),
    many: fc.array(fc.oneof(fc.constantFrom("r1", "r2", "a b"), fc.nat({ max: 999 })), { minLength: 1, maxLength: 3 }),
    weight: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined, freq: 2 }),
  })
  .map(({ attribute, op, one, many, weight }): Draft => {
    const arity = OPERATOR_ARITY[op];
    const block: Draft = arity === "one" ? { attribute, op, value: one } : arity === "many" ? { attribute, op, values: many } : { attribute, op };
    if (weight !== undefined) block.weight = weight;
    return block;
  });
const draft = fc.oneof({ arbitrary: wellFormedDraft, weight: 4 }, { arbitrary: anyDraft, weight: 1 });

/** What a block must parse to, or undefined when it must be refused. Independent of the parser's code. */
function judge(block: Draft, kind: Kind): Constraint | Preference | undefined {
  const { attribute, op, value, values } = block;
  if (attribute === undefined || !/^[A-Za-z0-9_.-]{1,63}$/.test(attribute)) return undefined;
  if (!CONSTRAINT_OPERATORS.some((known) => known === op)) return undefined;
  const operator = op as ConstraintOperator;
  let texts: string[];
  if (value !== undefined && values !== undefined) return undefined;
  switch (OPERATOR_ARITY[operator]) {
    case "one":
      if (value === undefined || Array.isArray(value)) return undefined;
      texts = [String(value)];
      break;
    case "many":
      if (values === undefined || !Array.isArray(values) || values.length === 0) return undefined;
      texts = values.map(String);
      break;
    case "none":
      if (value !== undefined || values !== undefined) return undefined;
      texts = [];
  }
  if (texts.includes("")) return undefined;
  const constraint: Constraint = { attribute, op: operator, values: texts };
  if (kind === "constraints") return block.weight === undefined ? constraint : undefined;
  const weight = block.weight ?? DEFAULT_PREFERENCE_WEIGHT;
  return Number.isInteger(weight) && weight >= 1 && weight <= 100 ? { ...constraint, weight } : undefined;
}

function borgScalar(value: DraftScalar): string {
  return typeof value === "number" ? String(value) : quoteBorg(value, "'");
}

function borgDraft(block: Draft): string {
  const fields = Object.entries(block).map(([key, value]: [string, DraftValue]) =>
    Array.isArray(value) ? `${key} = [${value.map(borgScalar).join(", ")}]` : `${key} = ${borgScalar(value)}`,
  );
  return `{\n    ${fields.join("\n    ")}\n  }`;
}

function draftSource(blocks: readonly Draft[], kind: Kind, format: SpecFormat): string {
  if (format === "borg") {
    return `job j = {\n  binary = 'b'\n  requirements = { ram = 1M cpu = 1 }\n  replicas = 1\n  ${kind} = [\n  ${blocks.map(borgDraft).join(",\n  ")}\n  ]\n}\n`;
  }
  const job = { job: "j", binary: "b", requirements: { ram: "1M", cpu: 1 }, replicas: 1, [kind]: blocks };
  return format === "json" ? JSON.stringify(job, null, 2) : stringify(job);
}

test("random constraint and preference blocks parse exactly when the rules allow, and errors name the bad block", (t) => {
  fc.assert(
    fc.property(fc.array(draft, { minLength: 1, maxLength: 4 }), fc.constantFrom<Kind>("constraints", "preferences"), fc.constantFrom(...FORMATS), (blocks, kind, format) => {
      const source = draftSource(blocks, kind, format);
      const expected = blocks.map((block) => judge(block, kind));
      const bad = new Set(expected.flatMap((result, index) => (result === undefined ? [index] : [])));
      try {
        const spec = parseJobSpec(source, { file: `drafts.${format}` });
        t.is(bad.size, 0, `accepted blocks ${[...bad].join(", ")}:\n${source}`);
        t.deepEqual(spec[kind], expected, source);
      } catch (error) {
        if (!(error instanceof SpecError)) throw error;
        const lineCount = source.split("\n").length;
        const blamed = new Set<number>();
        for (const issue of error.issues) {
          const match = new RegExp(`^${kind}\\.(\\d+)(\\.|$)`).exec(issue.field ?? "");
          t.truthy(match, `issue outside ${kind}: ${error.message}\n${source}`);
          t.true(issue.line !== undefined && issue.line >= 1 && issue.line <= lineCount, error.message);
          blamed.add(Number(match?.[1]));
        }
        t.deepEqual([...blamed].sort(), [...bad].sort(), `${error.message}\n${source}`);
      }
    }),
    { numRuns: 600 },
  );
});

// --- Label maps: any mix of keys and values, judged against the rules written out here ------------

type LabelDraftValue = string | number | boolean;
type LabelDraft = ReadonlyArray<readonly [string, LabelDraftValue]>;

const draftLabelKey = fc.oneof(
  { arbitrary: labelKey, weight: 4 },
  { arbitrary: fc.constantFrom("", "-x", "_x", ".x", "/x", "bad key", "a:b", "é", "x".repeat(64), "a\\b", "it's", "a=b"), weight: 1 },
);
const draftLabelValue: fc.Arbitrary<LabelDraftValue> = fc.oneof(
  { arbitrary: labelValue, weight: 6 },
  { arbitrary: fc.constantFrom("web server", "x".repeat(64), "a/b", "é", "it's", "a:b"), weight: 1 },
  { arbitrary: fc.constantFrom(2, 0, 1.5, -1, true, false), weight: 1 },
);
const byKey = { selector: ([key]: readonly [string, LabelDraftValue]) => key };
const labelDraft: fc.Arbitrary<LabelDraft> = fc.oneof(
  fc.uniqueArray(fc.tuple(draftLabelKey, draftLabelValue), { ...byKey, minLength: 1, maxLength: 5 }),
  // Around the limit, mostly good, so that too many is judged with and without other problems.
  fc.uniqueArray(fc.tuple(fc.oneof({ arbitrary: labelKey, weight: 20 }, draftLabelKey), fc.oneof({ arbitrary: labelValue, weight: 20 }, draftLabelValue)), {
    ...byKey,
    minLength: MAX_LABELS - 1,
    maxLength: MAX_LABELS + 2,
  }),
);

/** The label rules, written out independently of the schema: which keys are refused, and whether there are too many. */
function judgeLabels(draft: LabelDraft): { badKeys: Set<string>; tooMany: boolean } {
  const badKeys = new Set<string>();
  for (const [key, value] of draft) {
    const keyOk = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$/.test(key);
    const valueOk = typeof value === "string" && /^[A-Za-z0-9_.-]{0,63}$/.test(value);
    if (!keyOk || !valueOk) badKeys.add(key);
  }
  return { badKeys, tooMany: draft.length > MAX_LABELS };
}

/** The job, one label a line, and the line each label's key is on (for Borg and JSON; YAML quotes as it likes). */
function labelSource(draft: LabelDraft, format: SpecFormat): { source: string; labelsLine: number; lineOf: Map<string, number> | undefined } {
  const head = ["binary = 'b'", "requirements = { ram = 1M cpu = 1 }", "replicas = 1"];
  if (format === "borg") {
    const entries = draft.map(([key, value]) => `    ${/^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(key) ? key : quoteBorg(key, "'")} = ${typeof value === "string" ? quoteBorg(value, '"') : String(value)}`);
    const source = ["job j = {", ...head.map((line) => `  ${line}`), "  labels = {", ...entries, "  }", "}", ""].join("\n");
    return { source, labelsLine: head.length + 2, lineOf: new Map(draft.map(([key], index) => [key, head.length + 3 + index])) };
  }
  const job = { job: "j", binary: "b", requirements: { ram: "1M", cpu: 1 }, replicas: 1, labels: Object.fromEntries(draft) };
  const source = format === "json" ? JSON.stringify(job, null, 2) : stringify(job);
  const lines = source.split("\n");
  const labelsLine = lines.findIndex((line) => /^"?labels"?:/.test(line.trim())) + 1;
  if (format === "yaml") return { source, labelsLine, lineOf: undefined };
  return { source, labelsLine, lineOf: new Map(draft.map(([key]) => [key, lines.findIndex((line) => line.startsWith(`    ${JSON.stringify(key)}: `)) + 1])) };
}

test("the label generator makes good maps, bad labels, and too many with and without bad ones", (t) => {
  const judged = fc.sample(labelDraft, { numRuns: 300, seed: 1 }).map(judgeLabels);
  t.true(judged.some(({ badKeys, tooMany }) => badKeys.size === 0 && !tooMany));
  t.true(judged.some(({ badKeys, tooMany }) => badKeys.size > 0 && !tooMany));
  t.true(judged.some(({ badKeys, tooMany }) => badKeys.size === 0 && tooMany));
  t.true(judged.some(({ badKeys, tooMany }) => badKeys.size > 0 && tooMany));
});

test("random label maps parse exactly when the rules allow, and errors name each bad label at its line", (t) => {
  fc.assert(
    fc.property(labelDraft, fc.constantFrom(...FORMATS), (draft, format) => {
      const { source, labelsLine, lineOf } = labelSource(draft, format);
      const { badKeys, tooMany } = judgeLabels(draft);
      try {
        const spec = parseJobSpec(source, { file: `labels.${format}` });
        t.true(badKeys.size === 0 && !tooMany, `accepted ${[...badKeys].join(", ")}${tooMany ? " and too many labels" : ""}:\n${source}`);
        t.deepEqual(spec.labels, Object.fromEntries(draft), source);
      } catch (error) {
        if (!(error instanceof SpecError)) throw error;
        const blamed = new Set<string>();
        let counted = false;
        for (const issue of error.issues) {
          const field = issue.field ?? "";
          if (field === "labels") {
            counted = true;
            t.is(issue.line, labelsLine, `${error.message}\n${source}`);
            continue;
          }
          t.true(field.startsWith("labels."), `issue outside labels: ${error.message}\n${source}`);
          const key = field.slice("labels.".length);
          blamed.add(key);
          const expectedLine = lineOf?.get(key);
          if (expectedLine !== undefined) t.is(issue.line, expectedLine, `${key}: ${error.message}\n${source}`);
          else t.true(issue.line !== undefined && issue.line > labelsLine, `${key}: ${error.message}\n${source}`);
        }
        t.deepEqual([...blamed].sort(), [...badKeys].sort(), `${error.message}\n${source}`);
        t.is(counted, tooMany, `${error.message}\n${source}`);
      }
    }),
    { numRuns: 600 },
  );
});
