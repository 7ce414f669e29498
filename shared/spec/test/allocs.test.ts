import test from "ava";
import { parseJobSpec } from "../index.js";
import { fail, issue, lines } from "./support/expect-issue.js";
import { printBorg } from "./support/print-borg.js";
import { ALLOC_BORG, ALLOC_JSON, ALLOC_SPEC, ALLOC_YAML, IN_ALLOC_BORG, IN_ALLOC_SPEC, IN_ALLOC_YAML } from "./support/sources.js";


const RUNS_NOTHING = /an alloc set reserves resources and runs nothing/;

// --- Alloc sets and jobs in them, in every syntax -------------------------------------------------

test("an alloc set parses to the same JobSpec in Borg, YAML (alloc:) and JSON (name: with kind: alloc)", (t) => {
  t.deepEqual(parseJobSpec(ALLOC_BORG, { file: "web_allocs.borg" }), ALLOC_SPEC);
  t.deepEqual(parseJobSpec(ALLOC_YAML, { file: "web_allocs.yaml" }), ALLOC_SPEC);
  t.deepEqual(parseJobSpec(ALLOC_JSON, { file: "web_allocs.json" }), ALLOC_SPEC);
});

test("a minimal alloc set needs no binary, and gets kind alloc, binary '' and no ports", (t) => {
  const spec = parseJobSpec("alloc a = { requirements = { ram = 1G cpu = 1 } replicas = 2 }", { file: "a.borg" });
  t.is(spec.kind, "alloc");
  t.is(spec.binary, "");
  t.deepEqual(spec.args, []);
  t.deepEqual(spec.env, {});
  t.is(spec.requirements.ports, 0);
  t.false("allocSet" in spec);
  // A job still needs its binary.
  const job = issue(t, "job a = { requirements = { ram = 1G cpu = 1 } replicas = 2 }", "a.borg");
  t.like(job, { line: 1, column: 1, field: "binary" });
  t.regex(job.message, /is missing; add the program to run/);
});

test("YAML: alloc: with kind: alloc, and name: with kind: job or no kind, are all fine", (t) => {
  const body = "requirements: { ram: 1M, cpu: 1 }\nreplicas: 1\n";
  t.is(parseJobSpec(`alloc: a\nkind: alloc\n${body}`, { file: "a.yaml" }).kind, "alloc");
  t.is(parseJobSpec(`name: a\nkind: alloc\n${body}`, { file: "a.yaml" }).kind, "alloc");
  t.is(parseJobSpec(`name: a\nkind: job\nbinary: b\n${body}`, { file: "a.yaml" }).kind, "job");
  t.is(parseJobSpec(`job: a\nkind: job\nbinary: b\n${body}`, { file: "a.yaml" }).kind, "job");
  t.is(parseJobSpec(`name: a\nbinary: b\n${body}`, { file: "a.yaml" }).kind, "job");
  // An empty kind counts as absent, as other empty optional fields do.
  t.is(parseJobSpec(`alloc: a\nkind:\n${body}`, { file: "a.yaml" }).kind, "alloc");
});

test("a job named 'alloc' is still a job", (t) => {
  const spec = parseJobSpec("job alloc = { binary = 'b' requirements = { ram = 1M cpu = 1 } replicas = 1 }", { file: "a.borg" });
  t.like(spec, { name: "alloc", kind: "job", binary: "b" });
});

test("a job with alloc_set parses in Borg, YAML and JSON", (t) => {
  t.deepEqual(parseJobSpec(IN_ALLOC_BORG, { file: "web.borg" }), IN_ALLOC_SPEC);
  t.deepEqual(parseJobSpec(IN_ALLOC_YAML, { file: "web.yaml" }), IN_ALLOC_SPEC);
  const json = JSON.stringify({ job: "web", user: "alice", runtime: { cell: "us-east1" }, binary: "/opt/web/server", args: ["--port=%port%"], requirements: { ram: "1G", cpu: 1 }, replicas: 4, alloc_set: "web_allocs" });
  t.deepEqual(parseJobSpec(json, { file: "web.json" }), IN_ALLOC_SPEC);
});

test("alloc sets and jobs in them print as Borg and parse back", (t) => {
  const alloc = printBorg(ALLOC_SPEC);
  t.regex(alloc, /^alloc web_allocs = \{/);
  t.notRegex(alloc, /binary|args|env|restart|grace/);
  t.deepEqual(parseJobSpec(alloc, { file: "a.borg" }), ALLOC_SPEC);
  const job = printBorg(IN_ALLOC_SPEC);
  t.regex(job, /^job web = \{/);
  t.regex(job, /alloc_set = 'web_allocs'/);
  t.deepEqual(parseJobSpec(job, { file: "web.borg" }), IN_ALLOC_SPEC);
});

// --- What an alloc set refuses ---------------------------------------------------------------------

const REFUSED: ReadonlyArray<[field: string, borg: string, yaml: string, fix: RegExp]> = [
  ["binary", "binary = '/opt/web/server'", "binary: /opt/web/server", /binary is not allowed in an alloc set: .*; put the program in a job with/],
  ["args", "args = ['--port=%port%']", 'args: ["--port=%port%"]', /args are not allowed in an alloc set: .*; put the program and its args in a job with/],
  ["env", "env = { GREETING = 'hi' }", "env: { GREETING: hi }", /env is not allowed in an alloc set: .*; put the program and its env in a job with/],
  ["restart", "restart = 'never'", "restart: never", /restart is not allowed in an alloc set: .*; put the program and its restart policy in a job with/],
  ["grace", "grace = 5s", "grace: 5s", /grace is not allowed in an alloc set: .*; put the program and its grace period in a job with/],
];

for (const [field, borg, yaml, fix] of REFUSED) {
  test(`an alloc set refuses ${field}, at its line, saying why and where it goes (Borg and YAML)`, (t) => {
    const inBorg = issue(t, lines("alloc web_allocs = {", "  requirements = { ram = 1G cpu = 1 }", `  ${borg}`, "  replicas = 2", "}"), "a.borg");
    t.like(inBorg, { line: 3, column: 3, field });
    t.regex(inBorg.message, RUNS_NOTHING);
    t.regex(inBorg.message, fix);
    t.true(inBorg.message.endsWith("a job with alloc_set = 'web_allocs'"), inBorg.message);

    const inYaml = issue(t, lines("alloc: web_allocs", "requirements: { ram: 1G, cpu: 1 }", "replicas: 2", yaml), "a.yaml");
    t.like(inYaml, { line: 4, column: 1, field });
    t.regex(inYaml.message, fix);
    t.true(inYaml.message.endsWith("a job with alloc_set: web_allocs"), inYaml.message);
  });
}

test("an alloc set refuses alloc_set: it cannot run inside another alloc set", (t) => {
  const found = issue(t, lines("alloc inner = {", "  requirements = { ram = 1G cpu = 1 }", "  replicas = 2", "  alloc_set = 'outer'", "}"), "a.borg");
  t.like(found, { line: 4, column: 3, field: "alloc_set" });
  t.regex(found.message, /^alloc_set is not allowed in an alloc set: an alloc set reserves resources and runs nothing, so it cannot run inside another alloc set/);
  const json = issue(t, lines('{ "alloc": "inner",', '  "requirements": { "ram": "1G", "cpu": 1 }, "replicas": 2,', '  "alloc_set": "outer" }'), "a.json");
  t.like(json, { line: 3, column: 3, field: "alloc_set" });
});

test("every refused field in one alloc set is reported, each at its own line, in JSON spelling for JSON", (t) => {
  const error = fail(
    t,
    lines(
      "{",
      '  "alloc": "web_allocs",',
      '  "binary": "b",',
      '  "args": [],',
      '  "env": {},',
      '  "restart": "always",',
      '  "grace": "10s",',
      '  "requirements": { "ram": "1G", "cpu": 1 },',
      '  "replicas": 2',
      "}",
    ),
    "a.json",
  );
  t.deepEqual(
    error.issues.map((found) => [found.line, found.field]),
    [
      [3, "binary"],
      [4, "args"],
      [5, "env"],
      [6, "restart"],
      [7, "grace"],
    ],
  );
  t.true(error.issues.every((found) => found.message.includes('alloc_set": "web_allocs"')), error.message);
});

test("an alloc set with ports is refused by the schema, at requirements.ports", (t) => {
  const borg = issue(t, lines("alloc a = {", "  requirements = {", "    ram = 1G", "    cpu = 1", "    ports = 2", "  }", "  replicas = 2", "}"), "a.borg");
  t.like(borg, { line: 5, column: 13, field: "requirements.ports" });
  t.regex(borg.message, /an alloc set does not hold ports/);
  const yaml = issue(t, lines("alloc: a", "requirements:", "  ram: 1G", "  cpu: 1", "  ports: 1", "replicas: 2"), "a.yaml");
  t.like(yaml, { line: 5, column: 10, field: "requirements.ports" });
});

test("an unknown field in an alloc set lists only the alloc set's fields", (t) => {
  const found = issue(t, lines("alloc a = {", "  requirements = { ram = 1G cpu = 1 }", "  replicas = 2", "  colour = 'blue'", "}"), "a.borg");
  t.like(found, { line: 4, column: 3, field: "colour" });
  t.regex(found.message, /^unknown field 'colour' in an alloc set\. Allowed: runtime, requirements, replicas, priority, user, constraints, preferences, spread, max_per_machine, labels$/);
});

test("missing requirements and replicas in an alloc set are said in terms of allocs", (t) => {
  const error = fail(t, "alloc a = { runtime = {} }", "a.borg");
  const requirements = error.issues.find((found) => found.field === "requirements");
  t.regex(requirements?.message ?? "", /every alloc set states what each alloc reserves/);
  t.regex(error.issues.find((found) => found.field === "replicas")?.message ?? "", /how many allocs to reserve/);
});

// --- A job in an alloc set ------------------------------------------------------------------------

test("a job in an alloc set refuses its own placement fields, each at its line, in source spelling", (t) => {
  const error = fail(
    t,
    lines(
      "job web = {",
      "  binary = 'b'",
      "  requirements = { ram = 1G cpu = 1 }",
      "  replicas = 2",
      "  alloc_set = 'web_allocs'",
      "  constraints = [ { attribute = 'arch' op = '==' value = 'x86_64' } ]",
      "  preferences = [ { attribute = 'ssd' op = 'exists' } ]",
      "  spread = { across = 'rack' }",
      "  max_per_machine = 1",
      "}",
    ),
    "web.borg",
  );
  t.deepEqual(
    error.issues.map((found) => [found.line, found.field]),
    [
      [6, "constraints"],
      [7, "preferences"],
      [8, "spread"],
      [9, "max_per_machine"],
    ],
  );
  for (const found of error.issues) t.regex(found.message, new RegExp(`^${found.field} is not allowed in a job that runs in an alloc set: its tasks go where the allocs are`));
});

test("empty constraint and preference lists are fine in a job in an alloc set", (t) => {
  const spec = parseJobSpec(lines("job: web", "binary: b", "requirements: { ram: 1M, cpu: 1 }", "replicas: 1", "alloc_set: web_allocs", "constraints: []", "preferences:"), { file: "web.yaml" });
  t.is(spec.allocSet, "web_allocs");
  t.deepEqual(spec.constraints, []);
});

test("alloc_set follows the job name rules, reported at its value", (t) => {
  const bad = issue(t, lines("job web = {", "  binary = 'b'", "  requirements = { ram = 1M cpu = 1 }", "  replicas = 1", "  alloc_set = 'Web Allocs'", "}"), "web.borg");
  t.like(bad, { line: 5, column: 15, field: "alloc_set" });
  t.regex(bad.message, /must be 1-63 lower-case letters, digits, '_' or '-'/);

  const number = issue(t, lines("job: web", "binary: b", "requirements: { ram: 1M, cpu: 1 }", "replicas: 1", "alloc_set: 42"), "web.yaml");
  t.like(number, { line: 5, column: 12, field: "alloc_set" });
  t.regex(number.message, /expected a string, found a number \(42\); quote it: alloc_set: '42'/);
});

test("allocSet in YAML/JSON gets the snake_case spelling, as every camelCase field does", (t) => {
  const found = issue(t, lines("job: web", "binary: b", "requirements: { ram: 1M, cpu: 1 }", "replicas: 1", "allocSet: web_allocs"), "web.yaml");
  t.like(found, { line: 5, column: 1, field: "allocSet" });
  t.regex(found.message, /Fields are spelled in snake_case here: 'alloc_set'/);
});

// --- Saying which it is -----------------------------------------------------------------------------

test("YAML and JSON: job: and alloc: together are refused, at the second, naming both lines", (t) => {
  const yaml = issue(t, lines("job: web", "binary: b", "alloc: web_allocs", "requirements: { ram: 1M, cpu: 1 }", "replicas: 1"), "a.yaml");
  t.like(yaml, { line: 3, column: 1, field: "alloc" });
  t.regex(yaml.message, /^give either 'job' \(a job, which runs a program\) or 'alloc' \(an alloc set, .*\), not both; found 'job' on line 1 and 'alloc' on line 3$/);
  const json = issue(t, lines("{", '  "alloc": "web_allocs",', '  "job": "web"', "}"), "a.json");
  t.like(json, { line: 3, column: 3, field: "job" });
  t.regex(json.message, /found 'alloc' on line 2 and 'job' on line 3/);
});

test("YAML: alloc: and name: together give the name twice", (t) => {
  const found = issue(t, lines("alloc: a", "name: b", "requirements: { ram: 1M, cpu: 1 }", "replicas: 1"), "a.yaml");
  t.like(found, { line: 2, field: "name" });
  t.regex(found.message, /the alloc set's name is given twice, as 'alloc' \(line 1\) and 'name' \(line 2\)/);
});

test("YAML: kind must agree with the header key, and be job or alloc", (t) => {
  const body = ["requirements: { ram: 1M, cpu: 1 }", "replicas: 1"];
  // Only the contradiction is reported, not the binary that a job would miss.
  const clash = issue(t, lines("job: web_allocs", "kind: alloc", ...body), "a.yaml");
  t.like(clash, { line: 2, column: 7, field: "kind" });
  t.regex(clash.message, /kind says 'alloc', but 'job' \(line 1\) says this is a job; remove kind, or write alloc: web_allocs in place of 'job'/);
  const other = issue(t, lines("alloc: a", "binary: b", "kind: job", ...body), "a.yaml");
  t.like(other, { line: 3, field: "kind" });
  t.regex(other.message, /kind says 'job', but 'alloc' \(line 1\) says this is an alloc set/);
  const typo = issue(t, lines("name: a", "kind: allocs", ...body), "a.yaml");
  t.like(typo, { line: 2, column: 7, field: "kind" });
  t.regex(typo.message, /'allocs' is not a valid kind; use one of 'job', 'alloc' \(default 'job'\)\. Did you mean 'alloc'\?/);
});

test("YAML: an alloc set without a name says how to give one", (t) => {
  const found = issue(t, lines("kind: alloc", "requirements: { ram: 1M, cpu: 1 }", "replicas: 1"), "a.yaml");
  t.like(found, { line: 1, field: "name" });
  t.regex(found.message, /the alloc set has no name; add alloc: web_allocs/);
});

test("Borg: the header says which it is; kind and name in the block point there", (t) => {
  const kind = issue(t, lines("job web = {", "  binary = 'b'", "  requirements = { ram = 1M cpu = 1 }", "  replicas = 1", "  kind = 'alloc'", "}"), "a.borg");
  t.like(kind, { line: 5, column: 3, field: "kind" });
  t.regex(kind.message, /The header says what this is: job NAME = \{ \.\.\. \} for a job, alloc NAME = \{ \.\.\. \} for an alloc set\./);
  const name = issue(t, lines("alloc a = {", "  name = 'b'", "  requirements = { ram = 1M cpu = 1 }", "  replicas = 1", "}"), "a.borg");
  t.like(name, { line: 2, field: "name" });
  t.regex(name.message, /The alloc set's name goes in the header: alloc NAME = \{ \.\.\. \}\./);
});

test("Borg header errors name the alloc set", (t) => {
  const noName = issue(t, "alloc = { replicas = 1 }", "a.borg");
  t.like(noName, { line: 1, column: 7, field: "name" });
  t.regex(noName.message, /expected the alloc set's name after 'alloc', found '='; e\.g\. alloc web_allocs = \{ \.\.\. \}/);
  const twoWords = issue(t, "alloc web allocs = {}", "a.borg");
  t.regex(twoWords.message, /^an alloc set name is a single word/);
  const second = issue(t, lines("alloc a = { requirements = { ram = 1M cpu = 1 } replicas = 1 }", "job b = {}"), "a.borg");
  t.like(second, { line: 2, column: 1 });
  t.regex(second.message, /a file holds exactly one job or alloc set, and a second 'job' starts here \(the first starts on line 1\)/);
  const trailing = issue(t, lines("alloc a = { requirements = { ram = 1M cpu = 1 } replicas = 1 }", "replicas = 2"), "a.borg");
  t.like(trailing, { line: 2, column: 1 });
  t.regex(trailing.message, /after the end of the alloc block/);
});
