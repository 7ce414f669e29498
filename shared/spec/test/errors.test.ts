import test, { type ExecutionContext } from "ava";
import { parseJobSpec, SpecError, type SpecFormat, type SpecIssue } from "../index.js";

function fail(t: ExecutionContext, source: string, file: string, format?: SpecFormat): SpecError {
  const options = format === undefined ? { file } : { file, format };
  const error = t.throws(() => parseJobSpec(source, options), { instanceOf: SpecError });
  if (error === undefined) throw new Error("expected a SpecError");
  for (const issue of error.issues) t.is(issue.file, file);
  return error;
}

/** The one issue a source produces. */
function issue(t: ExecutionContext, source: string, file: string, format?: SpecFormat): SpecIssue {
  const error = fail(t, source, file, format);
  t.is(error.issues.length, 1, error.message);
  const [only] = error.issues;
  if (only === undefined) throw new Error("no issue");
  return only;
}

/** Lines joined with \n, so tests can say which line a problem is on. */
const lines = (...text: string[]) => `${text.join("\n")}\n`;

// --- Borg syntax errors ---------------------------------------------------------------------

test("unterminated string: file, line, column and the field it was in", (t) => {
  const found = issue(t, lines("job j = {", "  binary = 'hello_world", "  replicas = 1", "}"), "a.borg");
  t.like(found, { file: "a.borg", line: 2, column: 12, field: "binary" });
  t.regex(found.message, /unterminated string.*closing '/);
});

test("unterminated string at the end of the file", (t) => {
  t.like(issue(t, 'job j = { binary = "abc', "a.borg"), { line: 1, column: 20, field: "binary" });
});

test("unknown escape in a string lists the known ones", (t) => {
  const found = issue(t, lines("job j = {", "  binary = 'a\\qb'", "}"), "a.borg");
  t.like(found, { line: 2, field: "binary" });
  t.regex(found.message, /unknown escape \\q.*\\n/);
});

test("an unclosed block points at its opening brace", (t) => {
  const found = issue(t, lines("job j = {", "  requirements = {", "    ram = 1M"), "a.borg");
  t.like(found, { line: 2, column: 18, field: "requirements" });
  t.regex(found.message, /never closed; add a matching '}'/);
});

test("an unclosed list and an unclosed comment are reported where they open", (t) => {
  const list = issue(t, lines("job j = {", "  args = ['a'", "}"), "a.borg");
  t.like(list, { line: 2, column: 10, field: "args" });
  t.regex(list.message, /this '\[' is never closed; add ']' before the '}' on line 3/);
  const block = issue(t, lines("job j = {", "  runtime = { cell = 'x' ]", "}"), "a.borg");
  t.like(block, { line: 2, column: 13, field: "runtime" });
  t.regex(block.message, /this '\{' is never closed; add '}' before the ']' on line 2/);
  t.like(issue(t, lines("job j = {", "  /* oops", "}"), "a.borg"), { line: 2, column: 3 });
});

test("':' instead of '=' gets a Borg-specific hint", (t) => {
  const found = issue(t, lines("job j = {", "  binary: 'b'", "}"), "a.borg");
  t.like(found, { line: 2, column: 9, field: "binary" });
  t.regex(found.message, /uses '=' between a field and its value/);
});

test("an unquoted word as a value suggests quoting it", (t) => {
  const found = issue(t, lines("job j = {", "  priority = batch", "}"), "a.borg");
  t.like(found, { line: 2, column: 14, field: "priority" });
  t.regex(found.message, /strings need quotes: 'batch'/);
});

test("a missing '=' between key and value", (t) => {
  const found = issue(t, lines("job j = {", "  replicas 5", "}"), "a.borg");
  t.like(found, { line: 2, column: 12, field: "replicas" });
  t.regex(found.message, /expected '=' after 'replicas'/);
});

test("a file that does not start with 'job' or 'alloc', and an empty file", (t) => {
  const start = issue(t, "task j = {}", "a.borg");
  t.like(start, { line: 1, column: 1 });
  t.regex(start.message, /expected 'job' or 'alloc' at the start of the file, found 'task'.*job NAME = \{ \.\.\. \}, or alloc NAME = \{ \.\.\. \} for an alloc set/);
  const empty = issue(t, "  // nothing here\n", "a.borg");
  t.like(empty, { line: 2, column: 1 });
  t.regex(empty.message, /no job or alloc set found.*job NAME = \{ \.\.\. \}.*alloc NAME = \{ \.\.\. \}/);
});

test("two jobs in one file: the second is reported at its own line", (t) => {
  const source = lines(
    "job a = { binary = 'a' requirements = { ram = 1M cpu = 1 } replicas = 1 }",
    "",
    "job b = { binary = 'b' requirements = { ram = 1M cpu = 1 } replicas = 1 }",
  );
  const found = issue(t, source, "two.borg");
  t.like(found, { file: "two.borg", line: 3, column: 1 });
  t.regex(found.message, /exactly one job.*first starts on line 1/);
});

test("anything after the job block is an error with its line", (t) => {
  const found = issue(t, lines("job a = { binary = 'a' requirements = { ram = 1M cpu = 1 } replicas = 1 }", "replicas = 2"), "a.borg");
  t.like(found, { line: 2, column: 1 });
  t.regex(found.message, /after the end of the job block/);
});

test("a stray character names itself", (t) => {
  const found = issue(t, lines("job j = {", "  binary = 'b' @", "}"), "a.borg");
  t.like(found, { line: 2, column: 16 });
  t.regex(found.message, /unexpected '@'/);
});

test("nesting is bounded instead of overflowing the stack", (t) => {
  const found = issue(t, `job j = { args = ${"[".repeat(10_000)} }`, "deep.borg");
  t.regex(found.message, /nested more than 64 levels/);
  t.regex(issue(t, `job: j\nargs: ${"[".repeat(200)}${"]".repeat(200)}\n`, "deep.yaml").message, /nested more than 64 levels/);
});

// --- Field errors, both syntaxes --------------------------------------------------------------

test("bad size suffix: the value's position, the field, and the accepted units", (t) => {
  const found = issue(t, lines("job j = {", "  binary = 'b'", "  requirements = {", "    ram = 100X", "    cpu = 1", "  }", "  replicas = 1", "}"), "a.borg");
  t.like(found, { line: 4, column: 11, field: "requirements.ram" });
  t.regex(found.message, /unknown size unit "X".*K, M, G, T/);

  const yaml = issue(t, lines("job: j", "binary: b", "requirements:", "  ram: 12 parsecs", "  cpu: 1", "replicas: 1"), "a.yaml");
  t.like(yaml, { line: 4, column: 8, field: "requirements.ram" });
});

test("unknown field: named, with a suggestion and the allowed list", (t) => {
  const error = fail(t, lines("job j = {", "  binary = 'b'", "  requirements = { ram = 1M cpu = 1 }", "  replcias = 1", "}"), "a.borg");
  const unknown = error.issues.find((i) => i.field === "replcias");
  t.like(unknown, { line: 4, column: 3 });
  t.regex(unknown?.message ?? "", /unknown field 'replcias' in a job\. Did you mean 'replicas'\? Allowed: runtime, binary/);
  // Having been dropped, replicas is then missing, and that is said too, at the job's line.
  t.like(
    error.issues.find((i) => i.field === "replicas"),
    { line: 1, column: 1 },
  );
});

test("unknown fields at the top level and in blocks", (t) => {
  const error = fail(t, lines("job j = {", "  binary = 'b'", "  requirements = { ram = 1M cpu = 1 rma = 2 }", "  replicas = 1", "  colour = 'blue'", "}"), "a.borg");
  t.is(error.issues.length, 2);
  const [rma, colour] = error.issues;
  t.like(rma, { line: 3, column: 37, field: "requirements.rma" });
  t.regex(rma?.message ?? "", /unknown field 'rma' in requirements\. Did you mean 'ram'\? Allowed: ram, disk, cpu, ports/);
  t.like(colour, { line: 5, column: 3, field: "colour" });
  t.regex(colour?.message ?? "", /Allowed: runtime, binary, args, env, requirements, replicas, priority, restart, grace, user/);
});

test("a misspelt field gets 'did you mean', in YAML too", (t) => {
  const error = fail(t, lines("job: j", "binary: b", "requirements: { ram: 1M, cpu: 1 }", "replcias: 1"), "a.yaml");
  const unknown = error.issues.find((i) => i.field === "replcias");
  t.like(unknown, { line: 4, column: 1 });
  t.regex(unknown?.message ?? "", /Did you mean 'replicas'\?/);
  // Having been dropped, replicas is then missing, and that is said too.
  t.truthy(error.issues.find((i) => i.field === "replicas" && /is missing/.test(i.message)));
});

test("'name' inside a Borg job block explains where the name goes", (t) => {
  const error = fail(t, lines("job j = {", "  name = 'x'", "}"), "a.borg");
  const found = error.issues.find((i) => i.field === "name");
  t.like(found, { line: 2 });
  t.regex(found?.message ?? "", /goes in the header: job NAME/);
});

test("duplicate key: both lines in the message, reported at the second", (t) => {
  const found = issue(t, lines("job j = {", "  binary = 'b'", "  requirements = {", "    ram = 1M", "    cpu = 1", "    ram = 2M", "  }", "  replicas = 1", "}"), "a.borg");
  t.like(found, { line: 6, column: 5, field: "requirements.ram" });
  t.regex(found.message, /duplicate key 'ram' \(first set on line 4, again on line 6\)/);
});

test("duplicate keys in YAML and JSON", (t) => {
  const yaml = issue(t, lines("job: j", "binary: b", "requirements: { ram: 1M, cpu: 1 }", "replicas: 1", "binary: c"), "a.yaml");
  t.like(yaml, { line: 5, column: 1, field: "binary" });
  t.regex(yaml.message, /first set on line 2, again on line 5/);
  const json = issue(t, lines("{", '  "job": "j",', '  "binary": "b",', '  "requirements": { "ram": "1M", "cpu": 1, "cpu": 2 },', '  "replicas": 1', "}"), "a.json");
  t.like(json, { line: 4, field: "requirements.cpu" });
});

test("YAML: the name given as both job and name", (t) => {
  const found = issue(t, lines("job: j", "name: k", "binary: b", "requirements: { ram: 1M, cpu: 1 }", "replicas: 1"), "a.yaml");
  t.like(found, { line: 2, field: "name" });
  t.regex(found.message, /given twice/);
});

test("missing ram: names requirements.ram, points at the block, gives an example in the file's syntax", (t) => {
  const borg = issue(t, lines("job j = {", "  binary = 'b'", "  requirements = {", "    cpu = 1", "  }", "  replicas = 1", "}"), "a.borg");
  t.like(borg, { line: 3, column: 3, field: "requirements.ram" });
  t.regex(borg.message, /is missing.*ram = 100M/);

  const yaml = issue(t, lines("job: j", "binary: b", "requirements:", "  cpu: 1", "replicas: 1"), "a.yaml");
  t.like(yaml, { line: 3, column: 1, field: "requirements.ram" });
  t.regex(yaml.message, /ram: 100M/);

  const json = issue(t, '{"job": "j", "binary": "b", "requirements": {"cpu": 1}, "replicas": 1}', "a.json");
  t.like(json, { line: 1, field: "requirements.ram" });
  t.regex(json.message, /"ram": "100M"/);
});

test("missing requirements, binary, replicas and name are each reported", (t) => {
  const error = fail(t, "job: j\n", "a.yaml");
  t.deepEqual(
    error.issues.map((i) => i.field),
    ["binary", "requirements", "replicas"],
  );
  t.regex(error.issues[1]?.message ?? "", /requirements: \{ ram: 100M, cpu: 0.5 \}/);
  const nameless = fail(t, "binary: b\nrequirements: { ram: 1M, cpu: 1 }\nreplicas: 1\n", "a.yaml");
  t.like(nameless.issues[0], { field: "name", line: 1 });
  t.regex(nameless.issues[0]?.message ?? "", /add job: hello_world/);
});

test("replicas 0 is caught by the schema and mapped back to its line", (t) => {
  const found = issue(t, lines("job j = {", "  binary = 'b'", "  requirements = { ram = 1M cpu = 1 }", "  replicas = 0", "}"), "a.borg");
  t.like(found, { line: 4, column: 14, field: "replicas" });
  t.regex(found.message, /at least 1/);
});

test("negative cpu, in Borg and YAML; zero cpu from the schema", (t) => {
  const borg = issue(t, lines("job j = {", "  binary = 'b'", "  requirements = {", "    ram = 1M", "    cpu = -0.5", "  }", "  replicas = 1", "}"), "a.borg");
  t.like(borg, { line: 5, column: 11, field: "requirements.cpu" });
  t.regex(borg.message, /must not be negative/);
  t.like(issue(t, lines("job: j", "binary: b", "requirements:", "  ram: 1M", "  cpu: -1", "replicas: 1"), "a.yaml"), {
    line: 5,
    field: "requirements.cpu",
  });
  const zero = issue(t, lines("job j = {", "  binary = 'b'", "  requirements = { ram = 1M cpu = 0 }", "  replicas = 1", "}"), "a.borg");
  t.like(zero, { line: 3, column: 35, field: "requirements.cpu" });
  t.regex(zero.message, /above 0/);
});

test("bad job names: two words in Borg, a quoted name with a space, and in YAML", (t) => {
  const twoWords = issue(t, "job Hello World = {}", "a.borg");
  t.like(twoWords, { line: 1, column: 11, field: "name" });
  t.regex(twoWords.message, /single word/);

  const spaced = issue(t, lines("", "job 'Hello World' = {", "  binary = 'b'", "  requirements = { ram = 1M cpu = 1 }", "  replicas = 1", "}"), "a.borg");
  t.like(spaced, { line: 2, column: 5, field: "name" });
  t.regex(spaced.message, /lower-case letters, digits/);

  const upper = issue(t, lines("job: Hello World", "binary: b", "requirements: { ram: 1M, cpu: 1 }", "replicas: 1"), "a.yaml");
  t.like(upper, { line: 1, column: 6, field: "name" });
});

test("%port2% with ports = 1 points at ports and says what to set", (t) => {
  const found = issue(
    t,
    lines("job j = {", "  binary = 'b'", "  args = ['--a=%port2%']", "  requirements = {", "    ram = 1M", "    cpu = 1", "    ports = 1", "  }", "  replicas = 1", "}"),
    "a.borg",
  );
  t.like(found, { line: 7, column: 13, field: "requirements.ports" });
  t.regex(found.message, /%port2%.*at least 3/);
});

test("a schema error on a field that was not written points at its block", (t) => {
  // 20 placeholders imply ports = 21, above the per-task maximum.
  const found = issue(t, lines("job: j", "binary: b", "args: ['%port20%']", "requirements:", "  ram: 1M", "  cpu: 1", "replicas: 1"), "a.yaml");
  t.like(found, { line: 4, column: 1, field: "requirements.ports" });
  t.regex(found.message, /ports is above 16/);
});

test("wrong types say what was expected, what was found, and give an example", (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ["binary = 5", "binary", /expected a quoted string, found a number \(5\); quote it: binary = '5'/],
    ["replicas = 'five'", "replicas", /expected a whole number, found a string \("five"\); e\.g\. replicas = 3/],
    ["replicas = 2.5", "replicas", /expected a whole number/],
    ["user = true", "user", /expected a quoted string, found a boolean/],
    ["runtime = { cell = ['a'] }", "runtime.cell", /expected a quoted string, found a list; e\.g\. cell = 'local'/],
    ["runtime = 'local'", "runtime", /expected a block of fields.*runtime = \{ cell = 'local' \}/],
    ["env = ['A=1']", "env", /expected a map of variable names/],
    ["env = { A = ['x'] }", "env.A", /string, number or boolean, not a list/],
    ["args = 5", "args", /expected a list of arguments or a map of flags/],
    ["args = { a = { b = 1 } }", "args.a", /flag value must be a string, number or boolean, not a map/],
    ["priority = 5", "priority", /not a valid priority; use one of 'monitoring', 'production', 'batch', 'best-effort'/],
    ["priority = 'prod'", "priority", /Did you mean 'production'\?/],
    ["restart = 'onfailure'", "restart", /Did you mean 'on-failure'\?/],
    ["grace = 30", "grace", /30 needs a unit; e\.g\. grace = 30s/],
    ["grace = 5x", "grace", /unknown duration unit "x"/],
    ["grace = 2h", "grace", /above one hour/],
  ];
  for (const [field, expectedField, message] of cases) {
    const source = lines("job j = {", "  binary = 'b'", "  requirements = { ram = 1M cpu = 1 }", "  replicas = 1", `  ${field}`, "}");
    // A later binary/replicas would be a duplicate, so the overridden ones are removed first.
    const edited = field.startsWith("binary") || field.startsWith("replicas")
      ? source.replace(field.startsWith("binary") ? "  binary = 'b'\n" : "  replicas = 1\n", "")
      : source;
    const found = issue(t, edited, "types.borg");
    t.is(found.field, expectedField, field);
    t.truthy(found.line, field);
    t.regex(found.message, message, field);
  }
});

test("wrong types in requirements", (t) => {
  const error = fail(t, lines("job j = {", "  binary = 'b'", "  requirements = { ram = [1] cpu = true ports = '2' }", "  replicas = 1", "}"), "a.borg");
  t.deepEqual(
    error.issues.map((i) => [i.field, i.line, i.column]),
    [
      ["requirements.ram", 3, 26],
      ["requirements.cpu", 3, 36],
      ["requirements.ports", 3, 49],
    ],
  );
  t.regex(error.issues[0]?.message ?? "", /expected an amount, found a list; e\.g\. ram = 100M/);
  t.regex(error.issues[2]?.message ?? "", /expected a whole number, found a string \("2"\)/);
});

test("wrong types in JSON: a number where a string belongs", (t) => {
  const found = issue(t, '{"job": "j", "binary": 7, "requirements": {"ram": "1M", "cpu": 1}, "replicas": 1}', "a.json");
  t.like(found, { line: 1, column: 24, field: "binary" });
  t.regex(found.message, /quote it: "binary": "7"/);
});

test("wrong types in YAML: numbers where strings belong", (t) => {
  const error = fail(t, lines("job: 42", "binary: b", "requirements: { ram: [1], cpu: yes }", "replicas: '3'"), "a.yaml");
  t.deepEqual(
    error.issues.map((i) => [i.field, i.line]),
    [
      ["name", 1],
      ["requirements.ram", 3],
      ["requirements.cpu", 3],
      ["replicas", 4],
    ],
  );
  t.regex(error.issues[0]?.message ?? "", /expected a string, found a number \(42\); quote it: name: '42'/);
});

test("bad environment variable names are reported by the schema at their line", (t) => {
  const found = issue(t, lines("job: j", "binary: b", "env:", "  OK: 1", "  NOT OK: 2", "requirements: { ram: 1M, cpu: 1 }", "replicas: 1"), "a.yaml");
  t.like(found, { line: 5, field: "env.NOT OK" });
  t.regex(found.message, /letters, digits and '_'/);
});

test("several issues are all reported, one per line, in source order, as file:line:col: field: message", (t) => {
  const error = fail(t, lines("job j = {", "  binary = 'b'", "  requirements = { ram = 1Q cpu = -1 }", "  replicas = 0", "}"), "multi.borg");
  t.is(error.issues.length, 3);
  t.deepEqual(
    error.message.split("\n").map((line) => line.slice(0, line.indexOf(": ", line.indexOf(": ") + 1))),
    ["multi.borg:3:26: requirements.ram", "multi.borg:3:35: requirements.cpu", "multi.borg:4:14: replicas"],
  );
  t.is(error.name, "SpecError");
  t.true(error instanceof Error);
});

// --- YAML / JSON syntax ------------------------------------------------------------------------

test("YAML syntax error carries line and column", (t) => {
  const found = issue(t, lines("job: j", "binary: b", "requirements:", "  ram: 1M", " cpu: 1", "replicas: 1"), "bad.yaml");
  t.is(found.file, "bad.yaml");
  t.is(found.line, 5);
  t.truthy(found.column);
  t.regex(found.message, /^YAML syntax error: /);
});

test("an unclosed flow sequence in YAML", (t) => {
  const error = fail(t, lines("job: j", "args: [a, b", "binary: b"), "bad.yaml");
  t.true(error.issues.every((i) => i.line !== undefined && i.column !== undefined));
  t.regex(error.message, /YAML syntax error/);
});

test("JSON syntax errors say JSON", (t) => {
  const error = fail(t, lines("{", '  "job": "j",', '  "binary": "b"', '  "replicas": 1', "}"), "bad.json");
  t.regex(error.message, /JSON syntax error/);
  t.true(error.issues.every((i) => i.line !== undefined));
  t.true(error.issues.some((i) => i.line === 4));
});

test("two YAML documents in one file", (t) => {
  const found = issue(t, lines("job: a", "binary: a", "---", "job: b", "binary: b"), "two.yaml");
  t.like(found, { line: 3, column: 1 });
  t.regex(found.message, /exactly one job/);
});

test("a YAML file that is empty, or not a map", (t) => {
  t.regex(issue(t, "# just a comment\n", "empty.yaml").message, /no job or alloc set found.*alloc: NAME/);
  t.regex(issue(t, "", "empty.json").message, /no job or alloc set found.*"alloc": "NAME"/);
  const list = issue(t, "- job: j\n", "list.yaml");
  t.like(list, { line: 1, column: 1 });
  t.regex(list.message, /a job spec is a YAML map of fields, not a list/);
  t.regex(issue(t, "[1, 2]", "list.json").message, /JSON map/);
});

test("YAML aliases are refused with a reason", (t) => {
  const found = issue(t, lines("job: j", "binary: &b server", "user: *b"), "alias.yaml");
  t.like(found, { line: 3, field: "user" });
  t.regex(found.message, /aliases \(\*b\) are not supported/);
});

// --- Format selection ------------------------------------------------------------------------

test("unknown extension without a format lists the allowed ones", (t) => {
  const found = issue(t, "job j = {}", "job.txt");
  t.like(found, { file: "job.txt" });
  t.is(found.line, undefined);
  t.regex(found.message, /\.borg, \.yaml, \.yml, \.json.*pass format/);
  t.regex(issue(t, "", "Makefile").message, /cannot tell the spec format/);
  t.is(fail(t, "", "job.txt").message, `job.txt: ${found.message}`);
});

test("an unknown format option is refused", (t) => {
  t.regex(issue(t, "", "a.borg", "toml" as SpecFormat).message, /unknown spec format 'toml'/);
});
