import { federationOf, jobSpecSchema } from "@corral/contracts";
import test from "ava";
import { parseJobSpec } from "../index.js";
import { fail, issue, lines } from "./support/expect-issue.js";
import { PLAIN_STYLE, printBorg, printRuntime } from "./support/print-borg.js";
import { FEDERATED_BORG, FEDERATED_JSON, FEDERATED_SPEC, FEDERATED_YAML, FILL_BORG, FILL_JSON, FILL_SPEC, FILL_YAML } from "./support/sources.js";

/** A Borg job whose line 5 onwards are `extra`. */
const borg = (...extra: string[]) => lines("job j = {", "  binary = 'b'", "  requirements = { ram = 1M cpu = 1 }", "  replicas = 1", ...extra, "}");
/** A YAML job whose line 5 onwards are `extra`. */
const yaml = (...extra: string[]) => lines("job: j", "binary: b", "requirements: { ram: 1M, cpu: 1 }", "replicas: 1", ...extra);
/** A JSON job whose line 6 onwards are `extra` (each ending in a comma but the last). */
const json = (...extra: string[]) => lines("{", '  "job": "j",', '  "binary": "b",', '  "requirements": { "ram": "1M", "cpu": 1 },', '  "replicas": 1,', ...extra, "}");

// --- Each syntax, to the same JobSpec ----------------------------------------------------------------

test("a federated job spread by weight parses to the same JobSpec in Borg, YAML and JSON", (t) => {
  t.deepEqual(parseJobSpec(FEDERATED_BORG, { file: "web.borg" }), FEDERATED_SPEC);
  t.deepEqual(parseJobSpec(FEDERATED_YAML, { file: "web.yaml" }), FEDERATED_SPEC);
  t.deepEqual(parseJobSpec(FEDERATED_JSON, { file: "web.json" }), FEDERATED_SPEC);
});

test("a federated job filling its cells in order parses the same in each syntax, keeping what it leaves out absent", (t) => {
  t.deepEqual(parseJobSpec(FILL_BORG, { file: "batch.borg" }), FILL_SPEC);
  t.deepEqual(parseJobSpec(FILL_YAML, { file: "batch.yaml" }), FILL_SPEC);
  t.deepEqual(parseJobSpec(FILL_JSON, { file: "batch.json" }), FILL_SPEC);
  const { runtime } = parseJobSpec(FILL_YAML, { file: "batch.yaml" });
  t.false("weights" in runtime);
  t.false("maxDisruption" in runtime);
  t.false("cell" in runtime);
});

test("the examples as written in the brief: Borg and YAML", (t) => {
  const fromBorg = parseJobSpec(borg("  runtime = { cells = ['a', 'b', 'c'] policy = 'spread' weights = [2, 1, 1] spill_after = 30s max_disruption = 1 }"), { file: "a.borg" });
  t.deepEqual(fromBorg.runtime, { cells: ["a", "b", "c"], policy: "spread", weights: [2, 1, 1], spillAfterMs: 30_000, maxDisruption: 1 });
  const fromYaml = parseJobSpec(yaml("runtime: { cells: [a, b, c], policy: fill, spill_after: 45s }"), { file: "a.yaml" });
  t.deepEqual(fromYaml.runtime, { cells: ["a", "b", "c"], policy: "fill", spillAfterMs: 45_000 });
  // The same settings in the other syntax give the same runtime.
  t.deepEqual(parseJobSpec(yaml("runtime: { cells: [a, b, c], policy: spread, weights: [2, 1, 1], spill_after: 30s, max_disruption: 1 }"), { file: "a.yaml" }), fromBorg);
  t.deepEqual(parseJobSpec(borg("  runtime = { cells = ['a', 'b', 'c'] policy = 'fill' spill_after = 45s }"), { file: "a.borg" }), fromYaml);
});

test("a single cell is as before, and a pinned federated job lists one cell", (t) => {
  t.deepEqual(parseJobSpec(borg("  runtime = { cell = 'local' }"), { file: "a.borg" }).runtime, { cell: "local" });
  t.deepEqual(parseJobSpec(borg(), { file: "a.borg" }).runtime, {});
  t.deepEqual(parseJobSpec(yaml("runtime: { cells: [a], policy: pin }"), { file: "a.yaml" }).runtime, { cells: ["a"], policy: "pin" });
  // YAML: empty optional fields count as absent, as elsewhere.
  t.deepEqual(parseJobSpec(yaml("runtime:", "  cells: [a, b]", "  policy:", "  weights:"), { file: "a.yaml" }).runtime, { cells: ["a", "b"] });
});

test("federated specs print as Borg and parse back", (t) => {
  for (const spec of [FEDERATED_SPEC, FILL_SPEC]) t.deepEqual(parseJobSpec(printBorg(spec), { file: "a.borg" }), spec);
  t.is(printRuntime(FILL_SPEC.runtime, { ...PLAIN_STYLE, separator: ", " }), "{ cells = ['a', 'b', 'c'], policy = 'fill', spill_after = 45000ms }");
});

test("federationOf resolves a parsed spec's settings with their defaults", (t) => {
  t.deepEqual(federationOf(parseJobSpec(FEDERATED_BORG, { file: "web.borg" })), {
    cells: ["us-east1", "us-west1", "eu-west1"],
    policy: "spread",
    weights: [2, 1, 1],
    spillAfterMs: 30_000,
    maxDisruption: 1,
  });
  t.deepEqual(federationOf(parseJobSpec(FILL_YAML, { file: "batch.yaml" })), { cells: ["a", "b", "c"], policy: "fill", weights: [1, 1, 1], spillAfterMs: 45_000, maxDisruption: 1 });
  t.deepEqual(federationOf(parseJobSpec(yaml("runtime: { cells: [x, y] }"), { file: "a.yaml" })), { cells: ["x", "y"], policy: "spread", weights: [1, 1], spillAfterMs: 30_000, maxDisruption: 1 });
  t.is(federationOf(parseJobSpec(borg("  runtime = { cell = 'local' }"), { file: "a.borg" })), undefined);
});

// --- cell and cells ----------------------------------------------------------------------------------

test("cell and cells together: give one", (t) => {
  const b = issue(t, borg("  runtime = { cell = 'a' cells = ['a', 'b'] }"), "a.borg");
  t.like(b, { line: 5, column: 26, field: "runtime.cells" });
  t.is(b.message, "give either runtime.cell (one cell) or runtime.cells (a federated job), not both");
  const y = issue(t, yaml("runtime:", "  cell: a", "  cells: [a, b]"), "a.yaml");
  t.like(y, { line: 7, column: 3, field: "runtime.cells" });
  t.regex(y.message, /give either runtime\.cell \(one cell\) or runtime\.cells \(a federated job\), not both/);
});

test("cells: none, too many, a duplicate named at its place, a bad name", (t) => {
  const none = issue(t, borg("  runtime = { cells = [] }"), "a.borg");
  t.like(none, { line: 5, column: 15, field: "runtime.cells" });
  t.regex(none.message, /no cells listed; list the cells the job runs in, or use runtime\.cell for one cell/);

  const seventeen = Array.from({ length: 17 }, (_, index) => `c${index}`);
  const many = issue(t, yaml(`runtime: { cells: [${seventeen.join(", ")}] }`), "a.yaml");
  t.like(many, { line: 5, field: "runtime.cells" });
  t.regex(many.message, /more than 16 cells; a federated job runs in at most 16/);
  t.notThrows(() => parseJobSpec(yaml(`runtime: { cells: [${seventeen.slice(1).join(", ")}] }`), { file: "a.yaml" }));

  const twice = issue(t, borg("  runtime = { cells = ['a', 'b', 'a'] }"), "a.borg");
  t.like(twice, { line: 5, column: 34, field: "runtime.cells.2" });
  t.regex(twice.message, /cell 'a' is listed twice in runtime\.cells \(items 0 and 2\); list each cell once/);

  const thrice = fail(t, json('  "runtime": { "cells": ["x", "x", "y", "x"] }'), "a.json");
  t.deepEqual(
    thrice.issues.map((i) => i.field),
    ["runtime.cells.1", "runtime.cells.3"],
  );
  t.true(thrice.issues.every((i) => i.line === 6 && /cell 'x' is listed twice/.test(i.message)));

  const bad = issue(t, borg("  runtime = { cells = ['a', 'US_East'] }"), "a.borg");
  t.like(bad, { line: 5, column: 29, field: "runtime.cells.1" });
  t.regex(bad.message, /a cell name must be 1-63 lower-case letters/);
});

test("cells written as something other than a list of names", (t) => {
  const one = issue(t, borg("  runtime = { cells = 'a' }"), "a.borg");
  t.like(one, { line: 5, column: 23, field: "runtime.cells" });
  t.regex(one.message, /expected a list of cell names, found a string \("a"\); write cells = \['a'\], or cell = 'a' for a job in one cell/);

  const block = issue(t, yaml("runtime:", "  cells: { a: 1 }"), "a.yaml");
  t.like(block, { line: 6, field: "runtime.cells" });
  t.regex(block.message, /expected a list of cell names, found a map; e\.g\. cells: \[us-east1, us-west1\]/);

  const items = fail(t, yaml("runtime: { cells: [a, 1, true] }"), "a.yaml");
  t.deepEqual(
    items.issues.map((i) => [i.field, i.line, i.column]),
    [
      ["runtime.cells.1", 5, 23],
      ["runtime.cells.2", 5, 26],
    ],
  );
  t.regex(items.issues[0]?.message ?? "", /a cell name is a string, found a number \(1\); quote it: '1'/);
  t.regex(items.issues[1]?.message ?? "", /quote it: 'true'/);
  t.regex(issue(t, borg("  runtime = { cells = ['a', 7] }"), "a.borg").message, /a cell name is a quoted string, found a number \(7\); quote it: '7'/);
});

test("a list in cell says to use cells for several cells", (t) => {
  const found = issue(t, borg("  runtime = { cell = ['a', 'b'] }"), "a.borg");
  t.like(found, { line: 5, column: 22, field: "runtime.cell" });
  t.regex(found.message, /expected a quoted string, found a list; e\.g\. cell = 'local' for one cell, or cells = \['a', 'b'\] for a federated job/);
  t.regex(issue(t, json('  "runtime": { "cell": ["a", "b"] }'), "a.json").message, /or "cells": \["a", "b"\] for a federated job/);
});

// --- Only with cells -------------------------------------------------------------------------------

test("policy, weights, spill_after and max_disruption without cells: each named, with how to federate", (t) => {
  const error = fail(t, borg("  runtime = {", "    policy = 'spread'", "    weights = [1]", "    spill_after = 10s", "    max_disruption = 2", "  }"), "a.borg");
  t.deepEqual(
    error.issues.map((i) => [i.field, i.line, i.column]),
    [
      ["runtime.policy", 6, 14],
      ["runtime.weights", 7, 5],
      ["runtime.spill_after", 8, 19],
      ["runtime.max_disruption", 9, 22],
    ],
  );
  for (const [index, field] of ["policy", "weights", "spill_after", "max_disruption"].entries()) {
    t.regex(error.issues[index]?.message ?? "", new RegExp(`^${field} is for a federated job, one that lists its cells in cells; add the cells it runs in, e\\.g\\. cells = \\['us-east1', 'us-west1'\\], or leave ${field} out$`));
  }
});

test("federation settings beside a single cell say how to federate that job", (t) => {
  const b = issue(t, borg("  runtime = { cell = 'eu-west1' policy = 'fill' }"), "a.borg");
  t.like(b, { line: 5, column: 42, field: "runtime.policy" });
  t.regex(b.message, /this job runs in one cell \(cell = 'eu-west1'\); leave policy out, or federate the job by listing its cells in place of cell, e\.g\. cells = \['eu-west1', 'us-west1'\]/);
  const y = issue(t, yaml("runtime: { cell: us-west1, spill_after: 1m }"), "a.yaml");
  t.like(y, { line: 5, field: "runtime.spill_after" });
  t.regex(y.message, /cells: \[us-west1, us-east1\]/);
});

// --- Policies ------------------------------------------------------------------------------------

test("an unknown policy lists the policies and suggests the likeliest", (t) => {
  const cases: Array<[string, string]> = [
    ["fil", "fill"],
    ["Spread", "spread"],
    ["pinned", "pin"],
    ["balanced", "spread"],
    ["failover", "fill"],
  ];
  for (const [written, meant] of cases) {
    const found = issue(t, borg(`  runtime = { cells = ['a'] policy = '${written}' }`), "a.borg");
    t.like(found, { line: 5, column: 38, field: "runtime.policy" }, written);
    t.regex(found.message, /is not a valid federation policy; use one of 'spread', 'fill', 'pin' \(default 'spread'\)\./, written);
    t.true(found.message.endsWith(`Did you mean '${meant}'?`), `${written}: ${found.message}`);
  }
});

test("policy pin needs exactly one cell", (t) => {
  const found = issue(t, yaml("runtime:", "  cells: [a, b]", "  policy: pin"), "a.yaml");
  t.like(found, { line: 7, column: 11, field: "runtime.policy" });
  t.regex(found.message, /policy 'pin' keeps the job in one cell, so runtime\.cells lists exactly one, found 2; keep one cell, or use 'fill'/);
});

test("an unreadable policy is reported alone, not judged against the cells and weights", (t) => {
  const found = issue(t, borg("  runtime = { cells = ['a', 'b'] policy = 'pinn' weights = [1] }"), "a.borg");
  t.like(found, { field: "runtime.policy" });
  t.regex(found.message, /Did you mean 'pin'\?/);
});

// --- Weights -------------------------------------------------------------------------------------

test("weights only under policy spread (or no policy, which is spread)", (t) => {
  const fill = issue(t, borg("  runtime = { cells = ['a', 'b'] policy = 'fill' weights = [2, 1] }"), "a.borg");
  t.like(fill, { line: 5, column: 50, field: "runtime.weights" });
  t.regex(fill.message, /weights share the tasks between the cells under policy 'spread', but policy 'fill' fills the cells in the order listed; leave weights out, or use policy 'spread'/);
  const pin = fail(t, yaml("runtime: { cells: [a], policy: pin, weights: [3] }"), "a.yaml");
  t.deepEqual(
    pin.issues.map((i) => i.field),
    ["runtime.weights"],
  );
  t.regex(pin.issues[0]?.message ?? "", /but policy 'pin' keeps the tasks in one cell/);
  t.deepEqual(parseJobSpec(borg("  runtime = { cells = ['a', 'b'] weights = [3, 1] }"), { file: "a.borg" }).runtime, { cells: ["a", "b"], weights: [3, 1] });
});

test("one weight per cell", (t) => {
  const more = issue(t, borg("  runtime = { cells = ['a', 'b'] weights = [1, 2, 3] }"), "a.borg");
  t.like(more, { line: 5, column: 34, field: "runtime.weights" });
  t.regex(more.message, /^3 weights for 2 cells; give one weight per cell, in the order of runtime\.cells$/);
  t.regex(issue(t, yaml("runtime: { cells: [a, b, c], weights: [1] }"), "a.yaml").message, /^1 weight for 3 cells/);
});

test("each weight a whole number from 1 to 1000, named at its place", (t) => {
  const range = fail(t, borg("  runtime = { cells = ['a', 'b', 'c'] weights = [0, 1000, 1001] }"), "a.borg");
  t.deepEqual(
    range.issues.map((i) => [i.field, i.line, i.column]),
    [
      ["runtime.weights.0", 5, 50],
      ["runtime.weights.2", 5, 59],
    ],
  );
  t.true(range.issues.every((i) => i.message === "a weight must be from 1 to 1000"));

  const fraction = issue(t, json('  "runtime": { "cells": ["a", "b"], "weights": [1.5, 1] }'), "a.json");
  t.like(fraction, { line: 6, field: "runtime.weights.0" });
  t.regex(fraction.message, /a weight is a whole number from 1 to 1000, found a number \(1\.5\); write it, e\.g\. "weights": \[2, 1\]/);

  const quoted = issue(t, yaml("runtime: { cells: [a, b], weights: ['2', 1] }"), "a.yaml");
  t.like(quoted, { line: 5, column: 37, field: "runtime.weights.0" });
  t.regex(quoted.message, /found a string \("2"\); write it without quotes: 2/);
});

test("weights written as a map by cell, or as one number", (t) => {
  const byCell = issue(t, borg("  runtime = { cells = ['a', 'b'] weights = { b = 1 a = 3 } }"), "a.borg");
  t.like(byCell, { line: 5, column: 44, field: "runtime.weights" });
  t.regex(byCell.message, /weights is a list, one weight per cell in the order of cells, not a map; write weights = \[3, 1\]$/);
  const otherCells = issue(t, yaml("runtime:", "  cells: [a, b]", "  weights: { p: 2, q: 1 }"), "a.yaml");
  t.regex(otherCells.message, /write weights: \[2, 1\] with cells: \[p, q\]/);
  const number = issue(t, borg("  runtime = { cells = ['a', 'b'] weights = 2 }"), "a.borg");
  t.like(number, { field: "runtime.weights" });
  t.regex(number.message, /expected a list of weights, one per cell in the order of cells, found a number \(2\); e\.g\. weights = \[2, 1\]/);
});

// --- spill_after and max_disruption ------------------------------------------------------------------

test("spill_after: a duration from 1s to 1h, with a unit", (t) => {
  const short = issue(t, borg("  runtime = { cells = ['a'] spill_after = 500ms }"), "a.borg");
  t.like(short, { line: 5, column: 43, field: "runtime.spill_after" });
  t.regex(short.message, /spill_after is below 1s; it must be from 1s to 1h/);
  const long = issue(t, yaml("runtime: { cells: [a], spill_after: 1h1s }"), "a.yaml");
  t.like(long, { line: 5, column: 37, field: "runtime.spill_after" });
  t.regex(long.message, /spill_after is above one hour; it must be from 1s to 1h/);
  const bare = issue(t, borg("  runtime = { cells = ['a'] spill_after = 30 }"), "a.borg");
  t.like(bare, { field: "runtime.spill_after" });
  t.regex(bare.message, /30 needs a unit; e\.g\. spill_after = 30s \(ms, s, m and h work\)/);
  t.regex(issue(t, json('  "runtime": { "cells": ["a"], "spill_after": "5x" }'), "a.json").message, /unknown duration unit "x"/);
  const edges = [parseJobSpec(borg("  runtime = { cells = ['a'] spill_after = 1s }"), { file: "a.borg" }), parseJobSpec(borg("  runtime = { cells = ['a'] spill_after = 1h }"), { file: "a.borg" })];
  t.deepEqual(
    edges.map((spec) => spec.runtime.spillAfterMs),
    [1000, 3_600_000],
  );
});

test("max_disruption: a whole number from 1 to 10000", (t) => {
  const zero = issue(t, borg("  runtime = { cells = ['a'] max_disruption = 0 }"), "a.borg");
  t.like(zero, { line: 5, column: 46, field: "runtime.max_disruption" });
  t.regex(zero.message, /max_disruption must be from 1 to 10000/);
  t.regex(issue(t, yaml("runtime: { cells: [a], max_disruption: 10001 }"), "a.yaml").message, /max_disruption must be from 1 to 10000/);
  const fraction = issue(t, json('  "runtime": { "cells": ["a"], "max_disruption": 1.5 }'), "a.json");
  t.like(fraction, { line: 6, field: "runtime.max_disruption" });
  t.regex(fraction.message, /expected a whole number, found a number \(1\.5\); e\.g\. "max_disruption": 1/);
  t.is(parseJobSpec(borg("  runtime = { cells = ['a'] max_disruption = 10000 }"), { file: "a.borg" }).runtime.maxDisruption, 10_000);
});

// --- Field names -----------------------------------------------------------------------------------

test("misspelt runtime fields get a did-you-mean, and a list under a near miss of cell means cells", (t) => {
  const cases: Array<[string, string, string]> = [
    ["polcy = 'fill'", "polcy", "policy"],
    ["weight = [1]", "weight", "weights"],
    ["spillafter = 10s", "spillafter", "spill_after"],
    ["spill = 10s", "spill", "spill_after"],
    ["max_disruptions = 1", "max_disruptions", "max_disruption"],
    ["disruption = 1", "disruption", "max_disruption"],
    ["strategy = 'fill'", "strategy", "policy"],
    ["clusters = ['a']", "clusters", "cells"],
    ["cels = ['a']", "cels", "cells"],
    ["cels = 'a'", "cels", "cell"],
  ];
  for (const [field, key, meant] of cases) {
    const error = fail(t, borg(`  runtime = { cells = ['a'] ${field} }`.replace("cells = ['a'] cels", "cels").replace("cells = ['a'] clusters", "clusters")), "a.borg");
    const unknown = error.issues.find((i) => i.field === `runtime.${key}`);
    t.truthy(unknown, `${field}: ${error.message}`);
    t.like(unknown, { line: 5 }, field);
    t.regex(unknown?.message ?? "", new RegExp(`^unknown field '${key}' in runtime\\. Did you mean '${meant}'\\?.* Allowed: cell, cells, policy, weights, spill_after, max_disruption$`), field);
  }
  const camel = issue(t, json('  "runtime": { "cells": ["a"], "maxDisruption": 2 }'), "a.json");
  t.regex(camel.message, /Fields are spelled in snake_case here: 'max_disruption'/);
  const ms = issue(t, json('  "runtime": { "cells": ["a"], "spillAfterMs": 2000 }'), "a.json");
  t.regex(ms.message, /Did you mean 'spill_after'\?/);
});

test("runtime fields written at the top of the job say they go in the runtime block", (t) => {
  const cells = issue(t, borg("  cells = ['a', 'b']"), "a.borg");
  t.like(cells, { line: 5, column: 3, field: "cells" });
  t.regex(cells.message, /unknown field 'cells' in a job\. cells goes in the runtime block: runtime = \{ cells = \['us-east1', 'us-west1'\] \}\. Allowed: runtime, binary/);
  const policy = issue(t, yaml("policy: fill"), "a.yaml");
  t.regex(policy.message, /policy goes in the runtime block: runtime: \{ cells: \[us-east1, us-west1\], policy: spread \}/);
  const alias = issue(t, borg("  cluster = 'local'"), "a.borg");
  t.regex(alias.message, /Did you mean 'cell'\? It goes in the runtime block: runtime = \{ cell = 'local' \}/);
});

// --- Alloc sets ------------------------------------------------------------------------------------

test("an alloc set cannot be federated: it lives in one cell", (t) => {
  const b = issue(t, lines("alloc web_allocs = {", "  runtime = { cells = ['a', 'b'] }", "  requirements = { ram = 1G cpu = 1 }", "  replicas = 2", "}"), "a.borg");
  t.like(b, { line: 2, column: 15, field: "runtime.cells" });
  t.regex(b.message, /an alloc set lives in one cell, so it cannot be federated: give it one cell, e\.g\. cell = 'a'/);
  const y = issue(t, lines("alloc: web_allocs", "runtime:", "  cells: [x]", "requirements: { ram: 1G, cpu: 1 }", "replicas: 2"), "a.yaml");
  t.like(y, { line: 3, column: 3, field: "runtime.cells" });
  t.regex(y.message, /an alloc set lives in one cell.*cell: x/);
});

test("a job in an alloc set cannot be federated either", (t) => {
  const found = issue(t, borg("  alloc_set = 'web_allocs'", "  runtime = { cells = ['a', 'b'] }"), "a.borg");
  t.like(found, { line: 6, column: 15, field: "runtime.cells" });
  t.regex(found.message, /this job runs in an alloc set \(alloc_set, line 5\), and an alloc set lives in one cell, so the job cannot be federated: give it the alloc set's cell, e\.g\. cell = 'a', or leave alloc_set out/);
  t.notThrows(() => parseJobSpec(borg("  alloc_set = 'web_allocs'", "  runtime = { cell = 'a' }"), { file: "a.borg" }));
});

// --- Several problems, and the schema on its own ---------------------------------------------------

test("several runtime problems are all reported, in source order", (t) => {
  const error = fail(t, borg("  runtime = {", "    cells = ['a', 'a']", "    policy = 'pin'", "    spill_after = 2h", "    max_disruption = 'one'", "  }"), "a.borg");
  t.deepEqual(
    error.issues.map((i) => `${i.line}:${i.field}`),
    ["6:runtime.cells.1", "7:runtime.policy", "8:runtime.spill_after", "9:runtime.max_disruption"],
  );
});

test("every parsed federated spec is one the schema accepts on its own", (t) => {
  for (const spec of [FEDERATED_SPEC, FILL_SPEC]) t.true(jobSpecSchema.safeParse(spec).success);
});
