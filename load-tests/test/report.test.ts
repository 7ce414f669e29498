import test from "ava";
import { barChart } from "../src/harness/charts.js";
import { headlineMetrics } from "../src/harness/headline.js";
import { renderReport } from "../src/harness/report.js";
import { summaryTable, type RunResult } from "../src/harness/result.js";

const RESULT: RunResult = {
  scenario: "scheduler",
  startedAt: "2026-01-01T00:00:00.000Z",
  finishedAt: "2026-01-01T00:01:00.000Z",
  config: { machines: 10 },
  environment: { node: "v20" },
  metrics: { label: "text is not a headline figure", placements_per_s: 41_000, without: { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 } },
  samples: {},
  charts: [
    barChart({ title: "Rates", xLabel: "configuration", unit: "placements/s", categories: ["all on", "without <a>"], values: [41_000, 9_000] }),
    { title: "Over time", xLabel: "s", yLabel: "tasks", series: [{ label: "running", points: [{ x: 0, y: 1 }] }] },
  ],
};

test("without a headline of its own, a report leads with the first six numeric metrics", (t) => {
  t.deepEqual(headlineMetrics(RESULT), [["placements_per_s", 41_000], ["without.a", 1], ["without.b", 2], ["without.c", 3], ["without.d", 4], ["without.e", 5]]);
});

test("a scenario's headline names the metrics and their order; one the run lacks shows as not measured", (t) => {
  const result = { ...RESULT, headline: ["without.f", "placements_per_s", "renamed_metric"] };
  t.deepEqual(headlineMetrics(result), [["without.f", 6], ["placements_per_s", 41_000], ["renamed_metric", undefined]]);
  const rows = summaryTable(result).split("\n").filter((line) => /without\.f|placements_per_s|renamed_metric|without\.a/.test(line));
  t.regex(rows[0]!, /without\.f/, "the summary table leads with the headline too");
  t.regex(rows[2]!, /renamed_metric.*not measured/);
  t.regex(rows[3]!, /without\.a/, "then the other metrics");
  t.is(summaryTable(result).split("\n").filter((line) => line.includes("without.f")).length, 1, "a headline metric is not listed twice");
});

test("the report reads headline figures, then charts, then the table of every metric", (t) => {
  const html = renderReport({ ...RESULT, headline: ["placements_per_s"] });
  const headline = html.indexOf('<div class="figure"><div class="value">41,000</div><div class="key">placements_per_s</div></div>');
  const firstChart = html.indexOf('<canvas id="chart0">');
  const table = html.indexOf("<h2>All metrics</h2>");
  t.true(headline > 0 && firstChart > headline && table > firstChart, `order: headline ${headline}, chart ${firstChart}, table ${table}`);
  t.true(html.includes('"kind":"bar"') && html.includes('"categories":["all on","without \\u003ca>"]'), "bar data goes in escaped");
  t.true(html.includes('type: "bar"'));
});

test("a bar chart has one value per category in every series", (t) => {
  const grouped = barChart({ title: "Compaction", xLabel: "policy", unit: "machines", categories: ["e-pvm", "best-fit"], values: { "seed 1": [10, 9], "seed 2": [11, 8] } });
  t.deepEqual(grouped.series, [{ label: "seed 1", values: [10, 9] }, { label: "seed 2", values: [11, 8] }]);
  t.is(barChart({ title: "One", xLabel: "x", unit: "ms", categories: ["a"], values: [1] }).series[0]!.label, "ms");
  t.throws(() => barChart({ title: "Short", xLabel: "policy", unit: "machines", categories: ["e-pvm", "best-fit"], values: { "seed 1": [10] } }), {
    message: 'bar chart "Short": series "seed 1" has 1 values for 2 categories',
  });
});
