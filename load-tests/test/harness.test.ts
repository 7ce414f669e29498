import test from "ava";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareRuns } from "../src/compare.js";
import { renderReport } from "../src/harness/report.js";
import { flatten, writeResult, type RunResult } from "../src/harness/result.js";
import { cdf, distribution, percentile } from "../src/harness/stats.js";
import { generateJobs, toBorg } from "../src/harness/workload.js";
import { parseJobSpec } from "@corral/spec";

test("percentiles by nearest rank", (t) => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  t.is(percentile(values, 50), 50);
  t.is(percentile(values, 99), 99);
  t.is(percentile(values, 100), 100);
  t.true(Number.isNaN(percentile([], 50)));
  t.deepEqual(distribution([5]), { p50: 5, p90: 5, p99: 5, max: 5, count: 1 });
  const points = cdf([3, 1, 2]);
  t.deepEqual(points[0], { x: 1, y: 1 / 3 });
  t.deepEqual(points[points.length - 1], { x: 3, y: 1 });
});

test("the workload is the same for the same seed, has the asked number of tasks, and parses as a job spec", (t) => {
  const a = generateJobs({ seed: 7, tasks: 5000, batchRunMs: [100, 200] });
  const b = generateJobs({ seed: 7, tasks: 5000, batchRunMs: [100, 200] });
  t.deepEqual(a, b);
  t.notDeepEqual(a, generateJobs({ seed: 8, tasks: 5000, batchRunMs: [100, 200] }));
  t.is(a.reduce((sum, job) => sum + job.replicas, 0), 5000);
  const bands = new Set(a.map((job) => job.priority));
  t.is(bands.size, 4, "all four priority bands appear");
  for (const job of a.slice(0, 200)) {
    const spec = parseJobSpec(toBorg(job), { file: "load.borg" });
    t.is(spec.replicas, job.replicas);
    t.is(spec.env["HOLLOW_RUN_MS"], job.runMs === undefined ? undefined : String(job.runMs));
  }
});

const RESULT: RunResult = {
  scenario: "throughput",
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: "2026-01-01T00:01:00.000Z",
  config: { machines: 10 },
  environment: { node: "v20" },
  metrics: { tasks_per_s: 100, latency: { p50: 2 } },
  samples: {},
  charts: [{ title: "Tasks <over> time", xLabel: "s", yLabel: "tasks", series: [{ label: "running", points: [{ x: 0, y: 1 }] }] }],
};

test("results are written as JSON with an HTML report that carries the charts and escapes text", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "corral-report-"));
  const files = writeResult(RESULT, join(dir, "run.json"), { png: false });
  t.deepEqual(JSON.parse(readFileSync(files.json, "utf8")), RESULT);
  const html = readFileSync(files.html, "utf8");
  t.true(html.includes("new Chart("));
  t.true(html.includes("Tasks \\u003cover> time"), "chart data cannot close the script element");
  t.false(renderReport(RESULT).includes("<over>"));
  t.deepEqual(flatten(RESULT.metrics), [["tasks_per_s", 100], ["latency.p50", 2]]);
});

test("compare puts two runs side by side with ratios, and refuses runs of different scenarios", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "corral-compare-"));
  const a = writeResult(RESULT, join(dir, "a.json"), { png: false }).json;
  const b = writeResult({ ...RESULT, metrics: { tasks_per_s: 150, latency: { p50: 1 } } }, join(dir, "b.json"), { png: false }).json;
  const table = compareRuns(a, b);
  t.regex(table, /tasks_per_s.*100.*150.*1\.500/);
  t.regex(table, /latency\.p50.*2.*1.*0\.500/);
  const other = writeResult({ ...RESULT, scenario: "latency" }, join(dir, "c.json"), { png: false }).json;
  t.throws(() => compareRuns(a, other), { message: /compare runs of one scenario/ });
});
