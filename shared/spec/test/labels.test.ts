import { MAX_LABELS, type JobSpec } from "@corral/contracts";
import test from "ava";
import { parseJobSpec, type SpecIssue } from "../index.js";
import { fail, issue, lines } from "./support/expect-issue.js";
import { PLAIN_STYLE, printBorg, printLabels } from "./support/print-borg.js";

/** A Borg job whose line 6 onwards are `extra`. */
const borg = (...extra: string[]) => lines("job web = {", "  binary = '/bin/web'", "  requirements = { ram = 1M cpu = 1 }", "  replicas = 1", "  priority = 'batch'", ...extra, "}");
/** The same job in YAML, whose line 6 onwards are `extra`. */
const yaml = (...extra: string[]) => lines("job: web", "binary: /bin/web", "requirements: { ram: 1M, cpu: 1 }", "replicas: 1", "priority: batch", ...extra);
/** The same job in JSON, whose line 7 onwards are `extra` (each ending in a comma but the last). */
const json = (...extra: string[]) =>
  lines("{", '  "job": "web",', '  "binary": "/bin/web",', '  "requirements": { "ram": "1M", "cpu": 1 },', '  "replicas": 1,', '  "priority": "batch",', ...extra, "}");

const parse = (source: string, file: string) => parseJobSpec(source, { file });

// --- Each syntax, to the same labels ------------------------------------------------------------------

const LABELS = { tier: "web", "team-x": "payments", "app.kubernetes.io/name": "web", "example.com/version": "1.10", empty: "" };

const LABELS_BORG = borg(
  "  labels = {",
  "    tier = 'web'",
  "    team-x = \"payments\"",
  "    'app.kubernetes.io/name' = 'web'; \"example.com/version\" = '1.10', empty = ''",
  "  }",
);
const LABELS_YAML = yaml("labels:", "  tier: web", "  team-x: payments", "  app.kubernetes.io/name: web", "  example.com/version: '1.10'", "  empty: ''");
const LABELS_JSON = json('  "labels": { "tier": "web", "team-x": "payments", "app.kubernetes.io/name": "web", "example.com/version": "1.10", "empty": "" }');

test("labels parse to the same map in Borg, YAML and JSON, keys in source order", (t) => {
  const fromBorg = parse(LABELS_BORG, "web.borg");
  t.deepEqual(fromBorg.labels, LABELS);
  t.deepEqual(Object.keys(fromBorg.labels), Object.keys(LABELS));
  t.deepEqual(parse(LABELS_YAML, "web.yaml"), fromBorg);
  t.deepEqual(parse(LABELS_JSON, "web.json"), fromBorg);
});

test("the whole JobSpec: labels sit beside the other fields, which are untouched", (t) => {
  const expected: JobSpec = {
    name: "web",
    kind: "job",
    runtime: {},
    binary: "/bin/web",
    args: [],
    env: {},
    requirements: { ram: 2 ** 20, disk: 0, cpu: 1, ports: 0 },
    replicas: 1,
    priority: "batch",
    restart: "always",
    gracePeriodMs: 10_000,
    constraints: [],
    preferences: [],
    volumes: [],
    labels: { tier: "web" },
  };
  t.deepEqual(parse(borg("  labels = { tier = 'web' }"), "web.borg"), expected);
  t.deepEqual(parse(yaml("labels: { tier: web }"), "web.yaml"), expected);
});

test("no labels, an empty block and an empty YAML value all give {}", (t) => {
  t.deepEqual(parse(borg(), "web.borg").labels, {});
  t.deepEqual(parse(borg("  labels = {}"), "web.borg").labels, {});
  t.deepEqual(parse(yaml("labels:"), "web.yaml").labels, {});
  t.deepEqual(parse(yaml("labels: {}"), "web.yaml").labels, {});
  t.deepEqual(parse(json('  "labels": {}'), "web.json").labels, {});
});

test("an alloc set takes labels too, in Borg and YAML", (t) => {
  const borgAlloc = parse(lines("alloc web_allocs = {", "  requirements = { ram = 1G cpu = 1 }", "  replicas = 2", "  labels = { team = 'payments' 'corral.io/pool' = 'web' }", "}"), "a.borg");
  t.is(borgAlloc.kind, "alloc");
  t.deepEqual(borgAlloc.labels, { team: "payments", "corral.io/pool": "web" });
  const yamlAlloc = parse(lines("alloc: web_allocs", "requirements: { ram: 1G, cpu: 1 }", "replicas: 2", "labels: { team: payments, corral.io/pool: web }"), "a.yaml");
  t.deepEqual(yamlAlloc, borgAlloc);
});

test("keys that are words to a syntax are still just keys: true, 1, null, on", (t) => {
  const expected = { true: "yes", "1": "one", null: "none", on: "off" };
  t.deepEqual(parse(borg("  labels = { true = 'yes' 1 = 'one' null = 'none' on = 'off' }"), "web.borg").labels, expected);
  t.deepEqual(parse(yaml("labels: { 'true': 'yes', '1': one, 'null': none, 'on': 'off' }"), "web.yaml").labels, expected);
  // Unquoted, YAML reads true and 1 as a boolean and a number; as keys they are taken as written.
  t.deepEqual(parse(yaml("labels: { true: 'yes', 1: one, on: 'off' }"), "web.yaml").labels, { true: "yes", "1": "one", on: "off" });
});

// --- Printing ------------------------------------------------------------------------------------------

test("labels print as Borg, quoting only the keys that need it, and parse back", (t) => {
  t.is(printLabels(LABELS), "{ tier = 'web'\nteam-x = 'payments'\n'app.kubernetes.io/name' = 'web'\n'example.com/version' = '1.10'\nempty = '' }");
  t.is(printLabels({ tier: "web" }, { ...PLAIN_STYLE, quoteKeys: true, quote: '"' }), '{ "tier" = "web" }');
  t.is(printLabels({}), "{}");
  const spec = parse(LABELS_BORG, "web.borg");
  for (const style of [PLAIN_STYLE, { ...PLAIN_STYLE, separator: " " as const, quoteKeys: true, omitDefaults: true }]) {
    const printed = printBorg(spec, style);
    t.regex(printed, /labels = \{/);
    t.deepEqual(parse(printed, "web.borg"), spec, printed);
  }
});

// --- Refusals: each names the label, at its line -------------------------------------------------------

const longKey = `a${"b".repeat(63)}`;
const labelsOf = (count: number) => Array.from({ length: count }, (_, i) => `l${i} = 'v'`).join(" ");
const many = labelsOf(MAX_LABELS + 1);

/** [what, extra lines of the Borg job (from line 6), the issue's line, column and field, the message]. */
const BORG_REFUSALS: ReadonlyArray<[string, string[], Partial<SpecIssue>, RegExp]> = [
  ["a number value", ["  labels = { version = 2 }"], { line: 6, column: 24, field: "labels.version" }, /^a label value is a quoted string, found a number \(2\); quote it: version = '2'$/],
  ["a decimal value, quoted as written", ["  labels = { version = 1.10 }"], { line: 6, column: 24, field: "labels.version" }, /quote it: version = '1\.10'$/],
  ["a boolean value", ["  labels = { canary = true }"], { line: 6, column: 23, field: "labels.canary" }, /^a label value is a quoted string, found a boolean \(true\); quote it: canary = 'true'$/],
  ["a quantity value", ["  labels = { size = 2G }"], { line: 6, column: 21, field: "labels.size" }, /found a quantity \(2G\); quote it: size = '2G'$/],
  ["a bare word value", ["  labels = { tier = web }"], { line: 6, column: 21, field: "labels.tier" }, /^expected a value, found the bare word 'web'; strings need quotes: 'web'$/],
  ["a list value", ["  labels = { tier = ['web', 'api'] }"], { line: 6, column: 21, field: "labels.tier" }, /^a label value is a quoted string, found a list; a label has one value, e\.g\. tier = 'web'$/],
  ["nested labels", ["  labels = { app = { name = 'web' } }"], { line: 6, column: 20, field: "labels.app" }, /found a map; labels do not nest: write the whole key, e\.g\. 'app\/name' = 'web'$/],
  [
    "a key with '.' and '/', unquoted",
    ["  labels = { app.kubernetes.io/name = 'web' }"],
    { line: 6, column: 14, field: "labels.app.kubernetes.io/name" },
    /^'app\.kubernetes\.io\/name' needs quotes: a key with '\.' or '\/' in it is written as a string, 'app\.kubernetes\.io\/name' = \.\.\. \(unquoted keys are letters, digits, '_' and '-'\)$/,
  ],
  ["a key with '/', unquoted, after another label", ["  labels = {", "    tier = 'web'", "    team/name = 'x'", "  }"], { line: 8, column: 5, field: "labels.team/name" }, /^'team\/name' needs quotes/],
  ["a key the rules refuse, reported at the key", ["  labels = { tier = 'web' 'bad key' = 'x' }"], { line: 6, column: 27, field: "labels.bad key" }, /^a label key is 1-63 letters, digits, '_', '\.', '-' or '\/', starting with a letter or digit$/],
  ["a key starting with '-'", ["  labels = { '-x' = 'y' }"], { line: 6, column: 14, field: "labels.-x" }, /^a label key is 1-63 letters/],
  ["an empty key", ["  labels = { '' = 'y' }"], { line: 6, column: 14, field: "labels." }, /^a label key is 1-63 letters/],
  ["a key of 64 characters", [`  labels = { ${longKey} = 'y' }`], { line: 6, column: 14, field: `labels.${longKey}` }, /^a label key is 1-63 letters/],
  ["a value the rules refuse, reported at the value", ["  labels = { tier = 'web server' }"], { line: 6, column: 21, field: "labels.tier" }, /^a label value is up to 63 letters, digits, '_', '\.' or '-'$/],
  ["a value of 64 characters", [`  labels = { tier = '${"w".repeat(64)}' }`], { line: 6, column: 21, field: "labels.tier" }, /^a label value is up to 63 letters/],
  ["labels that are a string", ["  labels = 'tier=web'"], { line: 6, column: 12, field: "labels" }, /^expected a map of label keys to values, found a string \("tier=web"\); e\.g\. labels = \{ tier = 'web' team = 'payments' \}$/],
  ["labels that are a list of key=value", ["  labels = ['tier=web', 'team=payments']"], { line: 6, column: 12, field: "labels" }, /found a list; labels are a map of keys to values, not a list: labels = \{ tier = 'web' team = 'payments' \}$/],
  ["a duplicate key", ["  labels = {", "    tier = 'web'", "    tier = 'api'", "  }"], { line: 8, column: 5, field: "labels.tier" }, /^duplicate key 'tier' \(first set on line 7, again on line 8\); keep only one$/],
  ["'__proto__' as a key", ["  labels = { '__proto__' = 'x' }"], { line: 6, column: 14, field: "labels.__proto__" }, /^'__proto__' cannot be a label key/],
  [`${MAX_LABELS + 1} labels`, [`  labels = { ${many} }`], { line: 6, column: 3, field: "labels" }, new RegExp(`^more than ${MAX_LABELS} labels$`)],
  ["label for labels", ["  label = { tier = 'web' }"], { line: 6, column: 3, field: "label" }, /^unknown field 'label' in a job\. Did you mean 'labels'\?/],
  ["tags for labels", ["  tags = { tier = 'web' }"], { line: 6, column: 3, field: "tags" }, /^unknown field 'tags' in a job\. Did you mean 'labels'\?/],
];

for (const [what, extra, where, message] of BORG_REFUSALS) {
  test(`Borg refuses ${what}, at its line, naming the label`, (t) => {
    const source = borg(...extra);
    const found = issue(t, source, "web.borg");
    t.like(found, where, source);
    t.regex(found.message, message);
  });
}

test("the refusals above are not an accident of the test jobs: they parse as they are", (t) => {
  t.notThrows(() => parse(borg("  labels = { tier = 'web' }"), "web.borg"));
  t.notThrows(() => parse(yaml("labels: { tier: web }"), "web.yaml"));
  t.notThrows(() => parse(json('  "labels": { "tier": "web" }'), "web.json"));
  t.notThrows(() => parse(borg(`  labels = { ${labelsOf(MAX_LABELS)} }`), "web.borg"));
});

test("every bad label is reported, each at its own line, in source order; keys with dots are labels of their own", (t) => {
  const error = fail(
    t,
    borg(
      "  labels = {",
      "    app = 1", // a number, reported by the reader
      "    'app.x' = 'no way'", // a value the rules refuse: not hidden by the problem with 'app'
      "    'app x' = 'ok'", // a key the rules refuse
      "    fine = 'ok'",
      "  }",
    ),
    "web.borg",
  );
  t.deepEqual(
    error.issues.map((found) => [found.line, found.column, found.field]),
    [
      [7, 11, "labels.app"],
      [8, 15, "labels.app.x"],
      [9, 5, "labels.app x"],
    ],
    error.message,
  );
});

test("too many labels is said even when one of them is also wrong, and counts it", (t) => {
  // MAX_LABELS good ones and one more, whose value is a number.
  const error = fail(t, borg(`  labels = { ${labelsOf(MAX_LABELS)}`, "    version = 2 }"), "web.borg");
  t.deepEqual(
    error.issues.map((found) => [found.line, found.field, found.message]),
    [
      [6, "labels", `more than ${MAX_LABELS} labels`],
      [7, "labels.version", "a label value is a quoted string, found a number (2); quote it: version = '2'"],
    ],
  );
  // A value only the schema refuses, which would otherwise keep it from counting.
  const schemaOnly = fail(t, borg(`  labels = { ${labelsOf(MAX_LABELS)}`, "    tier = 'web server' }"), "web.borg");
  t.deepEqual(
    schemaOnly.issues.map((found) => [found.line, found.field]),
    [
      [6, "labels"],
      [7, "labels.tier"],
    ],
    schemaOnly.message,
  );
});

// --- In YAML and JSON -----------------------------------------------------------------------------------

test("YAML: a number or boolean value is refused with the quoted spelling, at its line", (t) => {
  const version = issue(t, yaml("labels:", "  tier: web", "  version: 2"), "web.yaml");
  t.like(version, { line: 8, column: 12, field: "labels.version" });
  t.is(version.message, "a label value is a string, found a number (2); quote it: version: '2'");

  const decimal = issue(t, yaml("labels: { version: 1.10 }"), "web.yaml");
  t.like(decimal, { line: 6, column: 20, field: "labels.version" });
  t.regex(decimal.message, /quote it: version: '1\.10'$/);

  const flag = issue(t, yaml("labels:", "  canary: true"), "web.yaml");
  t.like(flag, { line: 7, column: 11, field: "labels.canary" });
  t.regex(flag.message, /^a label value is a string, found a boolean \(true\); quote it: canary: 'true'$/);

  const dotted = issue(t, yaml("labels:", "  app.kubernetes.io/version: 2"), "web.yaml");
  t.like(dotted, { line: 7, field: "labels.app.kubernetes.io/version" });
  t.regex(dotted.message, /quote it: app\.kubernetes\.io\/version: '2'$/);
});

test("YAML: an empty value, a bad key, a list and nesting are refused at their lines", (t) => {
  const empty = issue(t, yaml("labels:", "  tier:"), "web.yaml");
  t.like(empty, { line: 7, field: "labels.tier" });
  t.regex(empty.message, /^a label value is a string, found an empty value; give it a value, e\.g\. tier: web, or for an empty one tier: ''$/);

  const key = issue(t, yaml("labels:", "  tier: web", "  -x: y"), "web.yaml");
  t.like(key, { line: 8, column: 3, field: "labels.-x" });
  t.regex(key.message, /^a label key is 1-63 letters/);

  const value = issue(t, yaml("labels:", "  tier: web", "  team: 'pay ments'"), "web.yaml");
  t.like(value, { line: 8, column: 9, field: "labels.team" });
  t.regex(value.message, /^a label value is up to 63 letters/);

  const list = issue(t, yaml("labels: [tier=web, 'team: payments']"), "web.yaml");
  t.like(list, { line: 6, column: 9, field: "labels" });
  t.regex(list.message, /not a list: labels: \{ tier: web, team: payments \}$/);

  const nested = issue(t, yaml("labels:", "  app:", "    name: web"), "web.yaml");
  t.like(nested, { line: 8, field: "labels.app" });
  t.regex(nested.message, /labels do not nest: write the whole key, e\.g\. app\/name: web$/);
});

test("JSON: a number or boolean value is refused with the quoted spelling, at its line", (t) => {
  const error = fail(t, json('  "labels": {', '    "tier": "web",', '    "version": 2,', '    "canary": false', "  }"), "web.json");
  t.deepEqual(
    error.issues.map((found) => [found.line, found.field, found.message]),
    [
      [9, "labels.version", 'a label value is a string, found a number (2); quote it: "version": "2"'],
      [10, "labels.canary", 'a label value is a string, found a boolean (false); quote it: "canary": "false"'],
    ],
  );
});

test("JSON: a key the rules refuse is reported at the key, not its value", (t) => {
  const found = issue(t, json('  "labels": { "tier": "web", "bad:key": "x" }'), "web.json");
  t.like(found, { line: 7, column: 30, field: "labels.bad:key" });
  const underscore = issue(t, json('  "labels": {', '    "_x": "y"', "  }"), "web.json");
  t.like(underscore, { line: 8, column: 5, field: "labels._x" });
  t.regex(underscore.message, /starting with a letter or digit$/);
});
