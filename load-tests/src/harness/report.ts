import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { headlineMetrics } from "./headline.js";
import { flatten } from "./flatten.js";
import type { RunResult } from "./result.js";

const require = createRequire(import.meta.url);
// The browser bundle is not in chart.js's exports map; find it beside the package's main file.
// Inlined so the report opens anywhere, with no network.
const CHART_JS = readFileSync(join(dirname(require.resolve("chart.js")), "chart.umd.min.js"), "utf8");

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

function formatted(value: unknown): string {
  if (value === undefined) return "not measured";
  return typeof value === "number" ? value.toLocaleString("en-US", { maximumFractionDigits: 3 }) : String(value);
}

/**
 * A self-contained HTML page that reads top down: the headline figures, the charts, then
 * every metric, the configuration and the environment.
 */
export function renderReport(result: RunResult): string {
  const rows = (value: Record<string, unknown>) =>
    flatten(value)
      .map(([key, inner]) => `<tr><td>${escapeHtml(key)}</td><td>${escapeHtml(formatted(inner))}</td></tr>`)
      .join("");
  const headline = headlineMetrics(result)
    .map(([key, value]) => `<div class="figure"><div class="value">${escapeHtml(formatted(value))}</div><div class="key">${escapeHtml(key)}</div></div>`)
    .join("");
  const charts = result.charts.map((_, index) => `<div class="chart"><canvas id="chart${index}"></canvas></div>`).join("");
  const data = JSON.stringify(result.charts).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Corral load test: ${escapeHtml(result.scenario)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; max-width: 1150px; }
table { border-collapse: collapse; margin: 8px 0 24px; } td { padding: 2px 12px 2px 0; border-bottom: 1px solid #eee; }
td:last-child { font-variant-numeric: tabular-nums; text-align: right; }
.headline { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0 8px; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 10px 16px; min-width: 150px; }
.figure .value { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
.figure .key { color: #666; margin-top: 2px; }
.chart { height: 320px; margin: 16px 0 32px; } .columns { display: flex; gap: 48px; flex-wrap: wrap; }
</style></head><body>
<h1>${escapeHtml(result.scenario)}</h1>
<p>${escapeHtml(result.startedAt)} → ${escapeHtml(result.finishedAt)}</p>
<div class="headline">${headline}</div>
${charts}
<div class="columns">
<div><h2>All metrics</h2><table>${rows(result.metrics)}</table></div>
<div><h2>Configuration</h2><table>${rows(result.config)}</table><h2>Environment</h2><table>${rows(result.environment)}</table></div>
</div>
<script>${CHART_JS}</script>
<script>
const charts = ${data};
const number = (value) => value.toLocaleString("en-US", { maximumFractionDigits: value < 10 ? 3 : value < 1000 ? 1 : 0 });
// Each bar carries its value: a report is read from a screenshot, with no tooltips.
const barValues = {
  id: "barValues",
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    ctx.save();
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillStyle = "#333";
    ctx.textAlign = "center";
    chart.data.datasets.forEach((dataset, d) => {
      chart.getDatasetMeta(d).data.forEach((bar, i) => ctx.fillText(number(dataset.data[i]), bar.x, bar.y - 4));
    });
    ctx.restore();
  },
};
charts.forEach((spec, index) => {
  const canvas = document.getElementById("chart" + index);
  const title = { display: true, text: spec.title };
  if (spec.kind === "bar") {
    new Chart(canvas, {
      type: "bar",
      data: { labels: spec.categories, datasets: spec.series.map((s) => ({ label: s.label, data: s.values })) },
      plugins: [barValues],
      options: {
        animation: false, maintainAspectRatio: false,
        layout: { padding: { top: 16 } },
        plugins: { title, legend: { display: spec.series.length > 1 } },
        scales: { x: { title: { display: true, text: spec.xLabel } }, y: { title: { display: true, text: spec.unit }, beginAtZero: true, grace: "8%" } },
      },
    });
    return;
  }
  new Chart(canvas, {
    type: "scatter",
    data: { datasets: spec.series.map((s) => ({ label: s.label, data: s.points, showLine: true, pointRadius: 0, borderWidth: 2 })) },
    options: {
      animation: false, maintainAspectRatio: false,
      plugins: { title },
      scales: { x: { title: { display: true, text: spec.xLabel } }, y: { title: { display: true, text: spec.yLabel }, beginAtZero: true } },
    },
  });
});
</script>
</body></html>
`;
}
