import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { flatten, type RunResult } from "./result.js";

const require = createRequire(import.meta.url);
// The browser bundle is not in chart.js's exports map; find it beside the package's main file.
// Inlined so the report opens anywhere, with no network.
const CHART_JS = readFileSync(join(dirname(require.resolve("chart.js")), "chart.umd.min.js"), "utf8");

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}

/** A self-contained HTML page: metrics, configuration, environment and one chart per spec. */
export function renderReport(result: RunResult): string {
  const rows = (value: Record<string, unknown>) =>
    flatten(value)
      .map(([key, inner]) => `<tr><td>${escapeHtml(key)}</td><td>${escapeHtml(typeof inner === "number" ? inner.toLocaleString("en-US", { maximumFractionDigits: 3 }) : String(inner))}</td></tr>`)
      .join("");
  const charts = result.charts.map((_, index) => `<div class="chart"><canvas id="chart${index}"></canvas></div>`).join("");
  const data = JSON.stringify(result.charts).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Corral load test: ${escapeHtml(result.scenario)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; max-width: 1150px; }
table { border-collapse: collapse; margin: 8px 0 24px; } td { padding: 2px 12px 2px 0; border-bottom: 1px solid #eee; }
td:last-child { font-variant-numeric: tabular-nums; text-align: right; }
.chart { height: 320px; margin: 16px 0 32px; } .columns { display: flex; gap: 48px; flex-wrap: wrap; }
</style></head><body>
<h1>${escapeHtml(result.scenario)}</h1>
<p>${escapeHtml(result.startedAt)} → ${escapeHtml(result.finishedAt)}</p>
<div class="columns">
<div><h2>Metrics</h2><table>${rows(result.metrics)}</table></div>
<div><h2>Configuration</h2><table>${rows(result.config)}</table><h2>Environment</h2><table>${rows(result.environment)}</table></div>
</div>
${charts}
<script>${CHART_JS}</script>
<script>
const charts = ${data};
charts.forEach((spec, index) => {
  new Chart(document.getElementById("chart" + index), {
    type: "scatter",
    data: { datasets: spec.series.map((s) => ({ label: s.label, data: s.points, showLine: true, pointRadius: 0, borderWidth: 2 })) },
    options: {
      animation: false, maintainAspectRatio: false,
      plugins: { title: { display: true, text: spec.title } },
      scales: { x: { title: { display: true, text: spec.xLabel } }, y: { title: { display: true, text: spec.yLabel }, beginAtZero: true } },
    },
  });
});
</script>
</body></html>
`;
}
