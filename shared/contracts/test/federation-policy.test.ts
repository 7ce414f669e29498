import test from "ava";
import {
  DEFAULT_SPILL_AFTER_MS,
  FEDERATION_POLICIES,
  federationOf,
  jobSpecSchema,
  runtimeSchema,
  type JobRuntime,
  type JobSpec,
} from "../index.js";

/** Each refusal as `path: message`. */
function refusals(input: unknown): string[] {
  const result = jobSpecSchema.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}

const job = (runtime: unknown, fields: Record<string, unknown> = {}) => ({
  name: "web",
  runtime,
  binary: "/bin/web",
  args: [],
  env: {},
  requirements: { cpu: 1, ram: 2 ** 20, disk: 0, ports: 0 },
  replicas: 3,
  priority: "production",
  restart: "always",
  gracePeriodMs: 0,
  ...fields,
});

/** A valid job with this runtime, as a service receives it. */
function spec(runtime: JobRuntime, fields: Partial<JobSpec> = {}): JobSpec {
  return jobSpecSchema.parse(job(runtime, { kind: "job", ...fields }));
}

test("FEDERATION_POLICIES", (t) => {
  t.deepEqual([...FEDERATION_POLICIES], ["spread", "fill", "pin"]);
});

test("federationOf: undefined for a job in one cell", (t) => {
  t.is(federationOf(spec({})), undefined);
  t.is(federationOf(spec({ cell: "local" })), undefined);
});

test("federationOf: every default; max_disruption a tenth of the replicas, at least one", (t) => {
  t.deepEqual(federationOf(spec({ cells: ["a", "b", "c"] })), { cells: ["a", "b", "c"], policy: "spread", weights: [1, 1, 1], spillAfterMs: 30_000, maxDisruption: 1 });
  t.is(DEFAULT_SPILL_AFTER_MS, 30_000);
  t.is(federationOf(spec({ cells: ["a"] }, { replicas: 25 }))?.maxDisruption, 3);
  t.is(federationOf(spec({ cells: ["a"] }, { replicas: 10_000 }))?.maxDisruption, 1000);
});

test("federationOf: what the spec says, and weights of 1 under fill and pin", (t) => {
  t.deepEqual(federationOf(spec({ cells: ["a", "b"], policy: "spread", weights: [3, 1], spillAfterMs: 5000, maxDisruption: 4 })), {
    cells: ["a", "b"],
    policy: "spread",
    weights: [3, 1],
    spillAfterMs: 5000,
    maxDisruption: 4,
  });
  t.deepEqual(federationOf(spec({ cells: ["a", "b"], weights: [3, 1] }))?.weights, [3, 1], "no policy is spread");
  t.deepEqual(federationOf(spec({ cells: ["b", "a", "c"], policy: "fill", spillAfterMs: 45_000 })), { cells: ["b", "a", "c"], policy: "fill", weights: [1, 1, 1], spillAfterMs: 45_000, maxDisruption: 1 });
  t.deepEqual(federationOf(spec({ cells: ["a"], policy: "pin" })), { cells: ["a"], policy: "pin", weights: [1], spillAfterMs: 30_000, maxDisruption: 1 });
});

test("federationOf is pure: its arrays are copies", (t) => {
  const federated = spec({ cells: ["a", "b"], weights: [2, 1] });
  const policy = federationOf(federated);
  policy?.cells.push("c");
  policy?.weights.push(9);
  t.deepEqual(federated.runtime, { cells: ["a", "b"], weights: [2, 1] });
  t.deepEqual(federationOf(federated), { cells: ["a", "b"], policy: "spread", weights: [2, 1], spillAfterMs: 30_000, maxDisruption: 1 });
});

test("the schema keeps what was given and adds no defaults", (t) => {
  t.deepEqual(spec({ cells: ["a"] }).runtime, { cells: ["a"] });
  t.deepEqual(runtimeSchema.parse({ cells: ["a", "b"], policy: "fill" }), { cells: ["a", "b"], policy: "fill" });
});

test("the schema's federation rules, each at its runtime field", (t) => {
  const cases: Array<[unknown, string[]]> = [
    [{ cell: "a", cells: ["b"] }, ["runtime.cells: give either runtime.cell (one cell) or runtime.cells (a federated job), not both"]],
    [{ cells: [] }, ["runtime.cells: no cells listed; list the cells the job runs in, or use runtime.cell for one cell"]],
    [{ cells: Array.from({ length: 17 }, (_, index) => `c${index}`) }, ["runtime.cells: more than 16 cells; a federated job runs in at most 16"]],
    [{ cells: ["a", "b", "a"] }, ["runtime.cells.2: cell 'a' is listed twice in runtime.cells (items 0 and 2); list each cell once"]],
    [{ cells: ["a", "B"] }, ["runtime.cells.1: a cell name must be 1-63 lower-case letters, digits, '_' or '-', starting and ending with a letter or digit"]],
    [{ policy: "fill" }, ["runtime.policy: policy is for a federated job, which lists its cells in runtime.cells; list the cells it runs in with runtime.cells"]],
    [
      { cell: "a", weights: [1], spillAfterMs: 1000, maxDisruption: 1 },
      [
        "runtime.weights: weights is for a federated job, which lists its cells in runtime.cells; this job runs in one cell (runtime.cell is 'a'), so leave weights out, or list its cells with runtime.cells instead",
        "runtime.spillAfterMs: spill_after is for a federated job, which lists its cells in runtime.cells; this job runs in one cell (runtime.cell is 'a'), so leave spill_after out, or list its cells with runtime.cells instead",
        "runtime.maxDisruption: max_disruption is for a federated job, which lists its cells in runtime.cells; this job runs in one cell (runtime.cell is 'a'), so leave max_disruption out, or list its cells with runtime.cells instead",
      ],
    ],
    [{ cells: ["a"], policy: "random" }, ["runtime.policy: policy must be one of 'spread', 'fill', 'pin'"]],
    [{ cells: ["a", "b"], policy: "pin" }, ["runtime.policy: policy 'pin' keeps the job in one cell, so runtime.cells lists exactly one, found 2; keep one cell, or use 'fill' to prefer the cells in the order listed"]],
    [{ cells: ["a", "b"], policy: "fill", weights: [1, 1] }, ["runtime.weights: weights share the tasks between the cells under policy 'spread', but policy 'fill' fills the cells in the order listed; leave weights out, or use policy 'spread'"]],
    [{ cells: ["a"], policy: "pin", weights: [1] }, ["runtime.weights: weights share the tasks between the cells under policy 'spread', but policy 'pin' keeps the tasks in one cell; leave weights out, or use policy 'spread'"]],
    [{ cells: ["a", "b"], weights: [1] }, ["runtime.weights: 1 weight for 2 cells; give one weight per cell, in the order of runtime.cells"]],
    [{ cells: ["a", "b"], policy: "spread", weights: [0, 1001] }, ["runtime.weights.0: a weight must be from 1 to 1000", "runtime.weights.1: a weight must be from 1 to 1000"]],
    [{ cells: ["a"], weights: [1.5] }, ["runtime.weights.0: a weight must be a whole number"]],
    [{ cells: ["a"], spillAfterMs: 999 }, ["runtime.spillAfterMs: spill_after is below 1s; it must be from 1s to 1h"]],
    [{ cells: ["a"], spillAfterMs: 3_600_001 }, ["runtime.spillAfterMs: spill_after is above one hour; it must be from 1s to 1h"]],
    [{ cells: ["a"], maxDisruption: 0 }, ["runtime.maxDisruption: max_disruption must be from 1 to 10000"]],
    [{ cells: ["a"], maxDisruption: 10_001 }, ["runtime.maxDisruption: max_disruption must be from 1 to 10000"]],
    [{ cells: ["a"], maxDisruption: 2.5 }, ["runtime.maxDisruption: max_disruption must be a whole number"]],
  ];
  for (const [runtime, expected] of cases) t.deepEqual(refusals(job(runtime)), expected, JSON.stringify(runtime));
  // The edges of each range are allowed.
  t.deepEqual(refusals(job({ cells: Array.from({ length: 16 }, (_, index) => `c${index}`), weights: Array.from({ length: 16 }, () => 1000), spillAfterMs: 1000, maxDisruption: 10_000 })), []);
  t.deepEqual(refusals(job({ cells: ["a"], policy: "pin", spillAfterMs: 3_600_000, maxDisruption: 1 })), []);
});

test("an alloc set, or a job in one, is refused a federation: an alloc set lives in one cell", (t) => {
  t.deepEqual(refusals(job({ cells: ["a", "b"] }, { kind: "alloc", binary: "" })), ["runtime.cells: an alloc set lives in one cell: give it runtime.cell, not runtime.cells"]);
  t.deepEqual(refusals(job({ cells: ["a"] }, { allocSet: "web_allocs" })), [
    "runtime.cells: a job in an alloc set runs in that alloc set's cell, and an alloc set lives in one cell: use runtime.cell, not runtime.cells, or leave alloc_set out",
  ]);
  t.deepEqual(refusals(job({ cell: "a" }, { kind: "alloc", binary: "" })), []);
  t.deepEqual(refusals(job({ cell: "a" }, { allocSet: "web_allocs" })), []);
});

test("records stored before federation parse as before", (t) => {
  t.deepEqual(spec({ cell: "local" }).runtime, { cell: "local" });
  t.deepEqual(refusals(job({ cell: "local", region: "x" })), ['runtime: Unrecognized key: "region"']);
});
