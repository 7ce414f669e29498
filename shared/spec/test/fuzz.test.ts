import { NAME_PATTERN, PRIORITY_BANDS, RESTART_POLICIES, type JobSpec } from "@corral/contracts";
import test from "ava";
import fc from "fast-check";
import { stringify } from "yaml";
import { parseJobSpec, SpecError, type SpecFormat } from "../index.js";
import { printBorg, type BorgStyle } from "./support/print-borg.js";
import { FULL_BORG, FULL_YAML, SEED_BORG, SEED_JSON, SEED_YAML } from "./support/sources.js";

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
  const anchored = soup.map((body) => `job j = { ${body} }`);
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

const validSpec: fc.Arbitrary<JobSpec> = fc
  .record({
    name,
    user: fc.option(name, { nil: undefined }),
    cell: fc.option(name, { nil: undefined }),
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
  })
  .map(({ user, cell, extraPorts, ram, disk, cpu, ...rest }) => {
    const texts = [...rest.args, ...Object.values(rest.env)];
    const highest = Math.max(-1, ...texts.flatMap((s) => [...s.matchAll(/%port(\d*)%/g)].map((m) => (m[1] ? Number(m[1]) : 0))));
    const spec: JobSpec = {
      ...rest,
      runtime: cell === undefined ? {} : { cell },
      env: { ...rest.env },
      requirements: { ram, disk, cpu, ports: Math.min(16, highest + 1 + extraPorts) },
    };
    if (user !== undefined) spec.user = user;
    return spec;
  });

const style: fc.Arbitrary<BorgStyle> = fc.record({
  quote: fc.constantFrom("'" as const, '"' as const),
  separator: fc.constantFrom("\n" as const, ", " as const, "; " as const, " " as const),
  suffixes: fc.boolean(),
  comments: fc.boolean(),
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

/** The source-syntax field names: `grace` rather than gracePeriodMs, the name under `job`. */
function toSource(spec: JobSpec): Record<string, unknown> {
  const { name: job, gracePeriodMs, ...rest } = spec;
  return { job, ...rest, grace: `${gracePeriodMs}ms` };
}

test("a valid spec written as YAML or JSON parses back to the same JobSpec", (t) => {
  fc.assert(
    fc.property(validSpec, fc.boolean(), (spec, asJson) => {
      const source = asJson ? JSON.stringify(toSource(spec), null, 2) : stringify(toSource(spec));
      t.deepEqual(parseJobSpec(source, { file: asJson ? "roundtrip.json" : "roundtrip.yaml" }), spec, source);
    }),
    { numRuns: 200 },
  );
});
