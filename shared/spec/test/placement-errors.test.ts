import test from "ava";
import { fail, issue, lines } from "./support/expect-issue.js";


/** A Borg job whose line 5 onwards are `extra`. */
const borg = (...extra: string[]) => lines("job j = {", "  binary = 'b'", "  requirements = { ram = 1M cpu = 1 }", "  replicas = 1", ...extra, "}");
/** A YAML job whose line 5 onwards are `extra`. */
const yaml = (...extra: string[]) => lines("job: j", "binary: b", "requirements: { ram: 1M, cpu: 1 }", "replicas: 1", ...extra);
/** A JSON job whose line 6 onwards are `extra` (each ending in a comma but the last). */
const json = (...extra: string[]) => lines("{", '  "job": "j",', '  "binary": "b",', '  "requirements": { "ram": "1M", "cpu": 1 },', '  "replicas": 1,', ...extra, "}");

// --- Operator and value spellings -------------------------------------------------------------

test("'in' with a single value says to write values as a list, in each syntax", (t) => {
  const b = issue(t, borg("  constraints = [", "    { attribute = 'rack' op = 'in' value = 'r1' }", "  ]"), "a.borg");
  t.like(b, { line: 6, column: 44, field: "constraints.0.value" });
  t.regex(b.message, /'in' takes a list of values: write values = \['r1'\] \(or use op = '==' for a single value\)/);

  const y = issue(t, yaml("constraints:", "  - attribute: rack", "    op: not_in", "    value: r1"), "a.yaml");
  t.like(y, { line: 8, column: 12, field: "constraints.0.value" });
  t.regex(y.message, /'not_in' takes a list of values: write values: \[r1\] \(or use op: '!=' for a single value\)/);

  const j = issue(t, json('  "constraints": [{ "attribute": "rack", "op": "in", "value": "r1" }]'), "a.json");
  t.like(j, { line: 6, field: "constraints.0.value" });
  t.regex(j.message, /write "values": \["r1"\] \(or use "op": "==" for a single value\)/);
});

test("'exists' with a value or values says it takes none, and what to use instead", (t) => {
  const value = issue(t, borg("  constraints = [ { attribute = 'ssd' op = 'exists' value = 'yes' } ]"), "a.borg");
  t.like(value, { line: 5, field: "constraints.0.value" });
  t.regex(value.message, /'exists' takes no value: it only checks whether the machine has the attribute\. Remove value, or use op = '==' to compare with a value/);

  const values = issue(t, yaml("preferences:", "  - { attribute: ssd, op: not_exists, values: [a] }"), "a.yaml");
  t.like(values, { line: 6, field: "preferences.0.values" });
  t.regex(values.message, /'not_exists' takes no values.*Remove values, or use op: not_in to compare with them/);
});

test("'==' with two values, with a one-item list, and with a list as value", (t) => {
  const two = issue(t, borg("  constraints = [ { attribute = 'arch' op = '==' values = ['x86_64', 'arm64'] } ]"), "a.borg");
  t.like(two, { line: 5, column: 50, field: "constraints.0.values" });
  t.regex(two.message, /'==' compares with exactly one value, found 2 values; to match any of them use op = 'in', or keep one: value = 'x86_64'/);

  const one = issue(t, borg("  constraints = [ { attribute = 'arch' op = '!=' values = ['arm64'] } ]"), "a.borg");
  t.regex(one.message, /'!=' compares with exactly one value, found a list; write value = 'arm64' instead of a list/);

  const asValue = issue(t, yaml("constraints:", "  - { attribute: arch, op: '==', value: [x86_64, arm64] }"), "a.yaml");
  t.like(asValue, { line: 6, field: "constraints.0.value" });
  t.regex(asValue.message, /value holds a single value, found a list; to match any of several values use op: in with values: \[x86_64, arm64\]/);
});

test("value and values together: pick one", (t) => {
  const found = issue(t, borg("  constraints = [{", "    attribute = 'arch' op = '=='", "    value = 'x86_64'", "    values = ['arm64']", "  }]"), "a.borg");
  t.like(found, { line: 8, column: 5, field: "constraints.0.values" });
  t.regex(found.message, /give either value \(one value, for '==' and '!='\) or values \(a list, for 'in' and 'not_in'\), not both/);
});

test("a missing value or values is reported at the operator, saying which one to add", (t) => {
  const one = issue(t, borg("  constraints = [", "    { attribute = 'arch' op = '==' }", "  ]"), "a.borg");
  t.like(one, { line: 6, column: 31, field: "constraints.0.value" });
  t.regex(one.message, /is missing; '==' compares the attribute with one value, e\.g\. value = 'x86_64'/);

  const many = issue(t, yaml("constraints:", "  - attribute: rack", "    op: in"), "a.yaml");
  t.like(many, { line: 7, column: 9, field: "constraints.0.values" });
  t.regex(many.message, /is missing; 'in' matches any of a list of values, e\.g\. values: \[r1, r2\]/);
});

test("an empty values list and an empty value", (t) => {
  const list = issue(t, borg("  constraints = [ { attribute = 'rack' op = 'not_in' values = [] } ]"), "a.borg");
  t.like(list, { field: "constraints.0.values", line: 5 });
  t.regex(list.message, /'not_in' needs at least one value, found an empty list; e\.g\. values = \['r1', 'r2'\]/);

  const value = issue(t, yaml("constraints: [{ attribute: arch, op: '==', value: '' }]"), "a.yaml");
  t.like(value, { line: 5, column: 51, field: "constraints.0.value" });
  t.regex(value.message, /must not be empty; to require only that the attribute is set, use exists/);

  const inList = issue(t, yaml("constraints: [{ attribute: arch, op: in, values: [a, ''] }]"), "a.yaml");
  t.like(inList, { line: 5, column: 54, field: "constraints.0.values.1" });
});

test("a value that is not a scalar names its place in the list", (t) => {
  const found = issue(t, borg("  constraints = [ { attribute = 'rack' op = 'in' values = ['r1', { x = 1 }] } ]"), "a.borg");
  t.like(found, { line: 5, column: 66, field: "constraints.0.values.1" });
  t.regex(found.message, /a constraint value must be a string, number or boolean, not a map/);
});

test("values given as a single scalar says to make it a list, or to use value", (t) => {
  const many = issue(t, borg("  constraints = [ { attribute = 'rack' op = 'in' values = 'r1' } ]"), "a.borg");
  t.like(many, { field: "constraints.0.values" });
  t.regex(many.message, /values is a list, found a string \("r1"\); write values = \['r1'\]/);
  const one = issue(t, json('  "constraints": [{ "attribute": "a", "op": "==", "values": 5 }]'), "a.json");
  t.regex(one.message, /values is a list, found a number \(5\); '==' compares with one value, written "value": "5"/);
});

// --- Operators ---------------------------------------------------------------------------------

test("an unknown operator lists the valid ones and suggests the likeliest", (t) => {
  const cases: Array<[string, string]> = [
    ["eq", "=="],
    ["=", "=="],
    ["ne", "!="],
    ["notin", "not_in"],
    ["not in", "not_in"],
    ["IN", "in"],
    ["exist", "exists"],
    ["absent", "not_exists"],
  ];
  for (const [written, meant] of cases) {
    const found = issue(t, borg(`  constraints = [ { attribute = 'a' op = '${written}' } ]`), "a.borg");
    t.like(found, { line: 5, column: 42, field: "constraints.0.op" }, written);
    t.regex(found.message, /is not a valid op; use one of '==', '!=', 'in', 'not_in', 'exists', 'not_exists'\./, written);
    t.true(found.message.endsWith(`Did you mean '${meant}'?`), `${written}: ${found.message}`);
  }
});

test("missing attribute or op: said at the block, with an example", (t) => {
  const error = fail(t, borg("  constraints = [", "    { value = 'x' }", "  ]"), "a.borg");
  t.deepEqual(
    error.issues.map((i) => [i.field, i.line, i.column]),
    [
      ["constraints.0.attribute", 6, 5],
      ["constraints.0.op", 6, 5],
    ],
  );
  t.regex(error.issues[0]?.message ?? "", /is missing; add the machine attribute the constraint tests, e\.g\. attribute = 'arch'/);
  t.regex(error.issues[1]?.message ?? "", /is missing; add how to compare, one of '==', .*e\.g\. op = '=='/);
});

test("an empty YAML attribute or op is reported at its key, not as missing", (t) => {
  const error = fail(t, yaml("constraints:", "  - attribute:", "    op:"), "a.yaml");
  t.deepEqual(
    error.issues.map((i) => [i.field, i.line]),
    [
      ["constraints.0.attribute", 6],
      ["constraints.0.op", 7],
    ],
  );
  t.regex(error.issues[0]?.message ?? "", /expected a string, found an empty value; e\.g\. attribute: arch/);
  t.regex(error.issues[1]?.message ?? "", /an empty value is not a valid op/);
});

test("bad attribute names: characters, length, a number", (t) => {
  const spaced = issue(t, borg("  constraints = [ { attribute = 'has space' op = 'exists' } ]"), "a.borg");
  t.like(spaced, { line: 5, column: 33, field: "constraints.0.attribute" });
  t.regex(spaced.message, /letters, digits, '_', '\.' and '-'/);
  t.regex(issue(t, borg(`  preferences = [ { attribute = '${"a".repeat(64)}' op = 'exists' } ]`), "a.borg").message, /longer than 63 characters/);
  t.regex(issue(t, yaml("constraints: [{ attribute: '', op: exists }]"), "a.yaml").message, /must not be empty; name the machine attribute to test, e\.g\. arch/);
  t.regex(issue(t, borg("  constraints = [ { attribute = 8 op = 'exists' } ]"), "a.borg").message, /quote it: attribute = '8'/);
});

test("Borg: unquoted operators get a hint to quote them", (t) => {
  const equals = issue(t, borg("  constraints = [ { attribute = 'a' op = == value = 'x' } ]"), "a.borg");
  t.like(equals, { line: 5, column: 42, field: "constraints.0.op" });
  t.regex(equals.message, /found '='; an operator is a string and needs quotes, e\.g\. op = '=='/);
  const bang = issue(t, borg("  constraints = [ { attribute = 'a' op = != value = 'x' } ]"), "a.borg");
  t.like(bang, { line: 5, column: 42, field: "constraints.0.op" });
  t.regex(bang.message, /unexpected '!'; an operator is a string and needs quotes, e\.g\. op = '!='/);
  const bare = issue(t, borg("  constraints = [ { attribute = 'a' op = not_in values = ['x'] } ]"), "a.borg");
  t.regex(bare.message, /strings need quotes: 'not_in'/);
});

test("YAML: an unquoted != is a tag, and the error says to quote it", (t) => {
  const block = issue(t, yaml("constraints:", "  - attribute: arch", "    op: !=", "    value: arm64"), "a.yaml");
  t.like(block, { line: 7, column: 9, field: "constraints.0.op" });
  t.regex(block.message, /'!=' is read as a YAML tag here, and a job spec uses no tags; to write it as text, quote it: '!='/);
  const flow = issue(t, yaml("constraints: [{ attribute: arch, op: !=, value: arm64 }]"), "a.yaml");
  t.like(flow, { line: 5, column: 38, field: "constraints.0.op" });
  const other = issue(t, yaml("user: !custom alice"), "a.yaml");
  t.like(other, { line: 5, column: 7, field: "user" });
  t.regex(other.message, /quote it: '!custom alice'/);
});

// --- Shapes and field names -----------------------------------------------------------------------

test("constraints written as one block instead of a list", (t) => {
  const b = issue(t, borg("  constraints = { attribute = 'arch' op = '==' value = 'x86_64' }"), "a.borg");
  t.like(b, { line: 5, column: 17, field: "constraints" });
  t.regex(b.message, /expected a list of constraints, found a map; put the block in a list, even when there is only one: constraints = \[\{ attribute = 'arch' op = '==' value = 'x86_64' \}\]/);
  const y = issue(t, yaml("preferences:", "  attribute: ssd", "  op: exists"), "a.yaml");
  t.like(y, { line: 6, field: "preferences" });
  t.regex(y.message, /preferences: \[\{ attribute: ssd, op: exists, weight: 20 \}\]/);
  t.regex(issue(t, borg("  constraints = 'arch'"), "a.borg").message, /expected a list of constraints, found a string \("arch"\); e\.g\. constraints = \[/);
});

test("a list item that is not a block names its index", (t) => {
  const found = issue(t, yaml("constraints:", "  - { attribute: arch, op: exists }", "  - arch == x86_64"), "a.yaml");
  t.like(found, { line: 7, column: 5, field: "constraints.1" });
  t.regex(found.message, /each constraint is a block of fields, found a string \("arch == x86_64"\); e\.g\. \{ attribute: arch, op: '==', value: x86_64 \}/);
});

test("unknown fields in a constraint, with suggestions", (t) => {
  const error = fail(t, borg("  constraints = [ { attribute = 'a' operator = 'exists' } ]"), "a.borg");
  const unknown = error.issues.find((i) => i.field === "constraints.0.operator");
  t.like(unknown, { line: 5, column: 37 });
  t.regex(unknown?.message ?? "", /unknown field 'operator' in constraints\.0 \(a constraint\)\. Did you mean 'op'\? Allowed: attribute, op, value, values/);
  t.truthy(error.issues.find((i) => i.field === "constraints.0.op" && /is missing/.test(i.message)));

  const typo = issue(t, yaml("preferences: [{ attribute: a, op: exists, wieght: 5 }]"), "a.yaml");
  t.like(typo, { line: 5, field: "preferences.0.wieght" });
  t.regex(typo.message, /in preferences\.0 \(a preference\)\. Did you mean 'weight'\? Allowed: attribute, op, value, values, weight/);
});

test("a weight on a constraint says to make it a preference", (t) => {
  const found = issue(t, borg("  constraints = [ { attribute = 'ssd' op = 'exists' weight = 5 } ]"), "a.borg");
  t.like(found, { line: 5, column: 53, field: "constraints.0.weight" });
  t.regex(found.message, /a block with a weight is a preference, so move it to preferences/);
});

test("camelCase field names get their snake_case spelling", (t) => {
  const top = issue(t, yaml("maxPerMachine: 2"), "a.yaml");
  t.like(top, { line: 5, column: 1, field: "maxPerMachine" });
  t.regex(top.message, /unknown field 'maxPerMachine' in a job\. Fields are spelled in snake_case here: 'max_per_machine'\./);
  const nested = issue(t, json('  "spread": { "across": "rack", "maxSkew": 2 }'), "a.json");
  t.like(nested, { line: 6, field: "spread.maxSkew" });
  t.regex(nested.message, /snake_case here: 'max_skew'/);
  const misspelt = fail(t, borg("  constraint = []"), "a.borg");
  t.regex(misspelt.message, /unknown field 'constraint' in a job\. Did you mean 'constraints'\?/);
});

// --- Preferences, spread, max_per_machine -----------------------------------------------------

test("weight out of range or not a whole number", (t) => {
  const high = issue(t, borg("  preferences = [", "    { attribute = 'ssd' op = 'exists' weight = 101 }", "  ]"), "a.borg");
  t.like(high, { line: 6, column: 48, field: "preferences.0.weight" });
  t.regex(high.message, /weight must be from 1 to 100/);
  t.regex(issue(t, yaml("preferences: [{ attribute: ssd, op: exists, weight: 0 }]"), "a.yaml").message, /weight must be from 1 to 100/);
  const fraction = issue(t, json('  "preferences": [{ "attribute": "ssd", "op": "exists", "weight": 2.5 }]'), "a.json");
  t.like(fraction, { field: "preferences.0.weight" });
  t.regex(fraction.message, /expected a whole number, found a number \(2\.5\); e\.g\. "weight": 20/);
});

test("spread: not a block, a missing or unknown domain, a bad max_skew", (t) => {
  const scalar = issue(t, borg("  spread = 'rack'"), "a.borg");
  t.like(scalar, { line: 5, column: 12, field: "spread" });
  t.regex(scalar.message, /expected 'none' \(the tasks may share machines as the cell's policy packs them\) or a block of fields, found a string \("rack"\); e\.g\. spread = \{ across = 'rack' max_skew = 1 \}/);
  const number = issue(t, borg("  spread = 2"), "a.borg");
  t.regex(number.message, /expected 'none' .* or a block of fields, found a number \(2\)/);

  const missing = issue(t, yaml("spread:", "  max_skew: 2"), "a.yaml");
  t.like(missing, { line: 5, column: 1, field: "spread.across" });
  t.regex(missing.message, /is missing; say which failure domain to spread the tasks across, one of 'machine', 'rack', 'power', e\.g\. across: rack/);

  const host = issue(t, borg("  spread = { across = 'host' }"), "a.borg");
  t.like(host, { line: 5, column: 23, field: "spread.across" });
  t.regex(host.message, /'host' is not a valid failure domain; use one of 'machine', 'rack', 'power'\. Did you mean 'machine'\?/);
  t.regex(issue(t, borg("  spread = { across = 'racks' }"), "a.borg").message, /Did you mean 'rack'\?/);

  const zero = issue(t, borg("  spread = {", "    across = 'rack'", "    max_skew = 0", "  }"), "a.borg");
  t.like(zero, { line: 7, column: 16, field: "spread.max_skew" });
  t.regex(zero.message, /max skew must be at least 1/);
  const text = issue(t, json('  "spread": { "across": "rack", "max_skew": "1" }'), "a.json");
  t.like(text, { line: 6, field: "spread.max_skew" });
  t.regex(text.message, /expected a whole number, found a string \("1"\); e\.g\. "max_skew": 1/);
});

test("max_per_machine: at least 1, a whole number", (t) => {
  const zero = issue(t, borg("  max_per_machine = 0"), "a.borg");
  t.like(zero, { line: 5, column: 21, field: "max_per_machine" });
  t.regex(zero.message, /max per machine must be at least 1; leave it out for no limit/);
  const fraction = issue(t, yaml("max_per_machine: 1.5"), "a.yaml");
  t.like(fraction, { line: 5, column: 18, field: "max_per_machine" });
  t.regex(fraction.message, /expected a whole number, found a number \(1\.5\); e\.g\. max_per_machine: 2/);
  t.regex(issue(t, json('  "max_per_machine": "2"'), "a.json").message, /e\.g\. "max_per_machine": 2/);
});

test("more than 32 constraints or preferences, reported at the list", (t) => {
  const many = Array.from({ length: 33 }, (_, index) => `{ attribute = 'a${index}' op = 'exists' }`).join(" ");
  const constraints = issue(t, borg(`  constraints = [ ${many} ]`), "a.borg");
  t.like(constraints, { line: 5, column: 3, field: "constraints" });
  t.regex(constraints.message, /more than 32 constraints; merge those on one attribute with in or not_in/);
  const preferences = issue(t, borg(`  preferences = [ ${many} ]`), "a.borg");
  t.like(preferences, { line: 5, field: "preferences" });
  t.regex(preferences.message, /more than 32 preferences/);
});

test("several problems across constraints are all reported, in source order, each at its block", (t) => {
  const error = fail(
    t,
    borg(
      "  constraints = [",
      "    { attribute = 'arch' op = 'in' value = 'x' }",
      "    { attribute = 'ok' op = 'exists' }",
      "    { attribute = 'rack' op = 'nope' }",
      "  ]",
      "  spread = { across = 'zone' }",
    ),
    "multi.borg",
  );
  t.deepEqual(
    error.issues.map((i) => `${i.line}:${i.field}`),
    ["6:constraints.0.value", "8:constraints.2.op", "10:spread.across"],
  );
});

// --- Borg list-of-block syntax errors -----------------------------------------------------------

test("Borg: a block in a list left open, a list left open, and ';' between list items", (t) => {
  const openBlock = issue(t, borg("  constraints = [", "    { attribute = 'a' op = 'exists'", "  ]"), "a.borg");
  t.like(openBlock, { line: 6, column: 5, field: "constraints.0" });
  t.regex(openBlock.message, /this '\{' is never closed; add '}' before the ']' on line 7/);

  const nextBlock = issue(t, borg("  constraints = [", "    { attribute = 'a' op = 'exists'", "    { attribute = 'b' op = 'exists' }", "  ]"), "a.borg");
  t.like(nextBlock, { line: 7, column: 5, field: "constraints.0" });
  t.regex(nextBlock.message, /found '\{'; .*if the block opened on line 6 should end here, add '}' before this '\{'/);

  const openList = issue(t, borg("  constraints = [ { attribute = 'a' op = 'exists' }"), "a.borg");
  t.like(openList, { line: 5, column: 17, field: "constraints" });
  t.regex(openList.message, /this '\[' is never closed; add ']' before the '}' on line 6/);

  const semicolon = issue(t, borg("  constraints = [ { attribute = 'a' op = 'exists' }; { attribute = 'b' op = 'exists' } ]"), "a.borg");
  t.like(semicolon, { line: 5, column: 52, field: "constraints" });
  t.regex(semicolon.message, /';' does not separate list items; use ',' or just a space/);
});

test("Borg: a broken string inside a list of blocks names the field in the block", (t) => {
  const found = issue(t, borg("  preferences = [", "    { attribute = 'ssd' op = 'exists }", "  ]"), "a.borg");
  t.like(found, { line: 6, column: 30, field: "preferences.0.op" });
  t.regex(found.message, /unterminated string/);
});
