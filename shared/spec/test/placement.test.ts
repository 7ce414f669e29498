import { jobSpecSchema, type JobSpec } from "@corral/contracts";
import test, { type ExecutionContext } from "ava";
import { parseJobSpec, type SpecFormat } from "../index.js";
import { FULL_BORG, FULL_JSON, FULL_SPEC, FULL_YAML, SEED_SPEC } from "./support/sources.js";

/** The example from the task that introduced placement fields, in all three syntaxes. */
const WEB_BORG = `job web = {
  runtime = { cell = 'local' }
  binary = 'hello_world_webserver'
  requirements = { ram = 100M cpu = 0.1 }
  replicas = 12
  constraints = [ { attribute = 'arch' op = '==' value = 'x86_64' }, { attribute = 'rack' op = 'not_in' values = ['r1', 'r2'] } ]
  preferences = [ { attribute = 'ssd' op = 'exists' weight = 20 } ]
  spread = { across = 'rack' max_skew = 1 }
  max_per_machine = 2
}
`;

const WEB_YAML = `job: web
runtime: { cell: local }
binary: hello_world_webserver
requirements: { ram: 100M, cpu: 0.1 }
replicas: 12
constraints:
  - { attribute: arch, op: "==", value: x86_64 }
  - { attribute: rack, op: not_in, values: [r1, r2] }
preferences:
  - { attribute: ssd, op: exists, weight: 20 }
spread: { across: rack, max_skew: 1 }
max_per_machine: 2
`;

const WEB_JSON = `{
  "job": "web",
  "runtime": { "cell": "local" },
  "binary": "hello_world_webserver",
  "requirements": { "ram": "100M", "cpu": 0.1 },
  "replicas": 12,
  "constraints": [
    { "attribute": "arch", "op": "==", "value": "x86_64" },
    { "attribute": "rack", "op": "not_in", "values": ["r1", "r2"] }
  ],
  "preferences": [{ "attribute": "ssd", "op": "exists", "weight": 20 }],
  "spread": { "across": "rack", "max_skew": 1 },
  "max_per_machine": 2
}
`;

const WEB_SPEC: JobSpec = {
  name: "web",
  kind: "job",
  runtime: { cell: "local" },
  binary: "hello_world_webserver",
  args: [],
  env: {},
  requirements: { ram: 100 * 2 ** 20, disk: 0, cpu: 0.1, ports: 0 },
  replicas: 12,
  priority: "production",
  restart: "always",
  gracePeriodMs: 10_000,
  constraints: [
    { attribute: "arch", op: "==", values: ["x86_64"] },
    { attribute: "rack", op: "not_in", values: ["r1", "r2"] },
  ],
  preferences: [{ attribute: "ssd", op: "exists", values: [], weight: 20 }],
  spread: { across: "rack", maxSkew: 1 },
  maxPerMachine: 2,
  volumes: [],
  labels: {},
};

test("the web example parses to the same JobSpec in Borg, YAML and JSON", (t) => {
  t.deepEqual(parseJobSpec(WEB_BORG, { file: "web.borg" }), WEB_SPEC);
  t.deepEqual(parseJobSpec(WEB_YAML, { file: "web.yaml" }), WEB_SPEC);
  t.deepEqual(parseJobSpec(WEB_JSON, { file: "web.json" }), WEB_SPEC);
});

test("the every-field job, with all placement fields, is the same in all three syntaxes", (t) => {
  t.deepEqual(parseJobSpec(FULL_BORG, { file: "full.borg" }), FULL_SPEC);
  t.deepEqual(parseJobSpec(FULL_YAML, { file: "full.yaml" }), FULL_SPEC);
  t.deepEqual(parseJobSpec(FULL_JSON, { file: "full.json" }), FULL_SPEC);
});

// --- Each field in each syntax ------------------------------------------------------------------

type Scalar = string | number | boolean;
type Value = Scalar | Value[] | { [key: string]: Value };

/** A field written in the given syntax, from one neutral description. */
function write(format: SpecFormat, value: Value): string {
  if (format === "json") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => write(format, item)).join(", ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value).map(([key, item]) => `${key}${format === "borg" ? " = " : ": "}${write(format, item)}`);
    return `{ ${entries.join(format === "borg" ? " " : ", ")} }`;
  }
  if (typeof value === "string") return format === "borg" ? `'${value}'` : JSON.stringify(value);
  return String(value);
}

function job(format: SpecFormat, fields: Record<string, Value>): string {
  const all: Record<string, Value> = { binary: "b", requirements: { ram: "1M", cpu: 1 }, replicas: 1, ...fields };
  if (format === "borg") {
    const body = Object.entries(all).map(([key, value]) => `  ${key} = ${key === "requirements" ? "{ ram = 1M cpu = 1 }" : write("borg", value)}`);
    return `job j = {\n${body.join("\n")}\n}\n`;
  }
  if (format === "json") return JSON.stringify({ job: "j", ...all }, null, 2);
  return `job: j\n${Object.entries(all).map(([key, value]) => `${key}: ${write("yaml", value)}`).join("\n")}\n`;
}

const FORMATS: SpecFormat[] = ["borg", "yaml", "json"];

function parseEach(t: ExecutionContext, fields: Record<string, Value>): JobSpec[] {
  return FORMATS.map((format) => {
    const source = job(format, fields);
    try {
      return parseJobSpec(source, { file: `j.${format}` });
    } catch (error) {
      t.fail(`${format}:\n${source}\n${(error as Error).message}`);
      throw error;
    }
  });
}

test("every constraint operator, in every syntax, with value or values as the operator needs", (t) => {
  const constraints: Value = [
    { attribute: "arch", op: "==", value: "x86_64" },
    { attribute: "os", op: "!=", value: "windows" },
    { attribute: "zone", op: "in", values: ["a"] },
    { attribute: "rack", op: "not_in", values: ["r1", "r2", "r3"] },
    { attribute: "gpu", op: "exists" },
    { attribute: "kernel.tainted", op: "not_exists" },
  ];
  for (const spec of parseEach(t, { constraints })) {
    t.deepEqual(spec.constraints, [
      { attribute: "arch", op: "==", values: ["x86_64"] },
      { attribute: "os", op: "!=", values: ["windows"] },
      { attribute: "zone", op: "in", values: ["a"] },
      { attribute: "rack", op: "not_in", values: ["r1", "r2", "r3"] },
      { attribute: "gpu", op: "exists", values: [] },
      { attribute: "kernel.tainted", op: "not_exists", values: [] },
    ]);
    t.deepEqual(spec.preferences, []);
  }
});

test("numbers and booleans as constraint values become the text written", (t) => {
  for (const spec of parseEach(t, { constraints: [{ attribute: "cores", op: "==", value: 8 }, { attribute: "ssd", op: "in", values: [true, 1.5] }] })) {
    t.deepEqual(
      spec.constraints.map((c) => c.values),
      [["8"], ["true", "1.5"]],
    );
  }
});

test("preferences: weight as written, or 10 by default", (t) => {
  const preferences: Value = [
    { attribute: "ssd", op: "exists", weight: 20 },
    { attribute: "zone", op: "in", values: ["a", "b"] },
    { attribute: "arch", op: "!=", value: "arm", weight: 100 },
  ];
  for (const spec of parseEach(t, { preferences })) {
    t.deepEqual(spec.preferences, [
      { attribute: "ssd", op: "exists", values: [], weight: 20 },
      { attribute: "zone", op: "in", values: ["a", "b"], weight: 10 },
      { attribute: "arch", op: "!=", values: ["arm"], weight: 100 },
    ]);
  }
});

test("spread: each failure domain, max_skew as written or 1 by default", (t) => {
  for (const across of ["machine", "rack", "power"] as const) {
    for (const spec of parseEach(t, { spread: { across } })) t.deepEqual(spec.spread, { across, maxSkew: 1 });
  }
  for (const spec of parseEach(t, { spread: { across: "power", max_skew: 3 } })) t.deepEqual(spec.spread, { across: "power", maxSkew: 3 });
  // Opting out of the default spread over machines.
  for (const spec of parseEach(t, { spread: "none" })) t.is(spec.spread, "none");
});

test("max_per_machine becomes maxPerMachine", (t) => {
  for (const spec of parseEach(t, { max_per_machine: 3 })) t.is(spec.maxPerMachine, 3);
});

test("empty lists are fine, and placement fields are absent or empty when not written", (t) => {
  for (const spec of parseEach(t, { constraints: [], preferences: [] })) {
    t.deepEqual([spec.constraints, spec.preferences], [[], []]);
  }
  for (const spec of parseEach(t, {})) {
    t.deepEqual([spec.constraints, spec.preferences], [[], []]);
    t.false("spread" in spec);
    t.false("maxPerMachine" in spec);
  }
  const yaml = parseJobSpec("job: j\nbinary: b\nrequirements: { ram: 1M, cpu: 1 }\nreplicas: 1\nconstraints:\npreferences:\nspread:\nmax_per_machine:\n", {
    file: "empty.yaml",
  });
  t.deepEqual([yaml.constraints, yaml.preferences], [[], []]);
  t.false("spread" in yaml);
  t.false("maxPerMachine" in yaml);
});

test("Borg lists of blocks: across lines, with or without commas, trailing comma, comments inside", (t) => {
  const spec = parseJobSpec(
    `job j = {
  binary = 'b'
  requirements = { ram = 1M cpu = 1 }
  replicas = 1
  constraints = [
    // hard rules
    {
      attribute = 'arch'; op = '=='; value = 'x86_64'
    }
    { attribute = "rack", op = "in", values = [ 'r1' 'r2', ] },   /* trailing comma next */
  ]
  preferences = [{attribute='ssd' op='exists'}]
}`,
    { file: "list.borg" },
  );
  t.deepEqual(spec.constraints, [
    { attribute: "arch", op: "==", values: ["x86_64"] },
    { attribute: "rack", op: "in", values: ["r1", "r2"] },
  ]);
  t.deepEqual(spec.preferences, [{ attribute: "ssd", op: "exists", values: [], weight: 10 }]);
});

test("YAML block-style lists and an unquoted == work", (t) => {
  const spec = parseJobSpec(
    `job: j
binary: b
requirements: { ram: 1M, cpu: 1 }
replicas: 1
constraints:
  - attribute: arch
    op: ==
    value: x86_64
  - attribute: rack
    op: not_in
    values:
      - r1
      - r2
`,
    { file: "block.yaml" },
  );
  t.deepEqual(spec.constraints, [
    { attribute: "arch", op: "==", values: ["x86_64"] },
    { attribute: "rack", op: "not_in", values: ["r1", "r2"] },
  ]);
});

test("attribute names may use letters, digits, '_', '.' and '-', up to 63 characters", (t) => {
  const name = `A.b-c_9${"x".repeat(56)}`;
  t.is(name.length, 63);
  for (const spec of parseEach(t, { constraints: [{ attribute: name, op: "exists" }] })) t.is(spec.constraints[0]?.attribute, name);
});

test("32 constraints and 32 preferences are allowed", (t) => {
  const many = Array.from({ length: 32 }, (_, index) => ({ attribute: `a${index}`, op: "exists" }));
  for (const spec of parseEach(t, { constraints: many, preferences: many })) {
    t.is(spec.constraints.length, 32);
    t.is(spec.preferences.length, 32);
  }
});

// --- Stored records -----------------------------------------------------------------------------

/** A spec as stored before placement fields existed. */
function oldRecord(): Record<string, unknown> {
  const { constraints: _constraints, preferences: _preferences, ...old } = SEED_SPEC;
  return JSON.parse(JSON.stringify(old)) as Record<string, unknown>;
}

test("a spec stored before placement fields existed still decodes, with empty constraints and preferences", (t) => {
  const old = oldRecord();
  t.false("constraints" in old);
  const decoded = jobSpecSchema.parse(old);
  t.deepEqual(decoded, SEED_SPEC);
  t.false("spread" in decoded);
  t.false("maxPerMachine" in decoded);
});

test("a stored preference without a weight and a spread without maxSkew get the defaults", (t) => {
  const decoded = jobSpecSchema.parse({
    ...oldRecord(),
    preferences: [{ attribute: "ssd", op: "exists", values: [] }],
    spread: { across: "machine" },
  });
  t.deepEqual(decoded.preferences, [{ attribute: "ssd", op: "exists", values: [], weight: 10 }]);
  t.deepEqual(decoded.spread, { across: "machine", maxSkew: 1 });
});

test("a parsed spec survives a JSON round trip through the schema, as services re-validate it", (t) => {
  t.deepEqual(jobSpecSchema.parse(JSON.parse(JSON.stringify(FULL_SPEC))), FULL_SPEC);
  t.deepEqual(jobSpecSchema.parse(JSON.parse(JSON.stringify(WEB_SPEC))), WEB_SPEC);
});

test("the schema on its own refuses values that do not suit the operator", (t) => {
  const withConstraint = (constraint: Record<string, unknown>) => jobSpecSchema.safeParse({ ...oldRecord(), constraints: [constraint] });
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ attribute: "a", op: "==", values: ["x", "y"] }, /exactly one value, not 2; to match any of several, use in/],
    [{ attribute: "a", op: "!=", values: [] }, /exactly one value, not 0/],
    [{ attribute: "a", op: "in", values: [] }, /needs at least one value/],
    [{ attribute: "a", op: "exists", values: ["x"] }, /takes no values/],
    [{ attribute: "a b", op: "exists", values: [] }, /letters, digits, '_', '.' and '-'/],
    [{ attribute: "a", op: "~", values: [] }, /./],
    [{ attribute: "a", op: "==", values: [""] }, /must not be empty; to require only that the attribute is set, use exists/],
  ];
  for (const [constraint, message] of cases) {
    const result = withConstraint(constraint);
    t.false(result.success, JSON.stringify(constraint));
    t.regex(result.error?.issues.map((issue) => issue.message).join("\n") ?? "", message, JSON.stringify(constraint));
    t.is(result.error?.issues[0]?.path[0], "constraints");
  }
  t.false(jobSpecSchema.safeParse({ ...oldRecord(), constraints: [{ attribute: "a", op: "exists" }] }).success, "values is required in a record");
  t.false(jobSpecSchema.safeParse({ ...oldRecord(), maxPerMachine: 0 }).success);
  t.false(jobSpecSchema.safeParse({ ...oldRecord(), spread: { across: "zone", maxSkew: 1 } }).success);
});
