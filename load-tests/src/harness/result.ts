import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Table from "cli-table3";
import { findExecutable } from "@corral/launcher";
import { flatten } from "./flatten.js";
import { headlineMetrics } from "./headline.js";
import { renderReport } from "./report.js";

export interface ChartSeries {
  label: string;
  points: { x: number; y: number }[];
}

/** Lines over a numeric x axis: time, latency, a quantity. The kind a chart without one has. */
export interface LineChartSpec {
  kind?: "line";
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
}

/** One bar per category (and per series, side by side): for configurations, policies, runs. */
export interface BarChartSpec {
  kind: "bar";
  title: string;
  /** what the categories are, under the axis */
  xLabel: string;
  /** the values' unit, beside the axis */
  unit: string;
  categories: string[];
  /** each series has one value per category, in the categories' order */
  series: { label: string; values: number[] }[];
}

export type ChartSpec = LineChartSpec | BarChartSpec;

export interface RunResult {
  scenario: string;
  startedAt: string;
  finishedAt: string;
  config: Record<string, unknown>;
  environment: Record<string, unknown>;
  metrics: Record<string, unknown>;
  /** the metrics (flattened keys, "a.b") the report leads with; default: see headlineKeys */
  headline?: string[];
  samples: Record<string, unknown>;
  charts: ChartSpec[];
}

export const RESULTS_DIR = fileURLToPath(new URL("../../results/", import.meta.url));

function versionOf(command: string, args: string[]): string {
  const path = findExecutable(command);
  if (path === undefined) return "not found";
  try {
    return execFileSync(path, args, { encoding: "utf8" }).trim().split("\n")[0] ?? "";
  } catch {
    return "unknown";
  }
}

export function environment(): Record<string, unknown> {
  return {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryBytes: totalmem(),
    kernel: release(),
    natsServer: versionOf("nats-server", ["--version"]),
    redisServer: versionOf("redis-server", ["--version"]),
  };
}

export { flatten } from "./flatten.js";

function show(value: unknown): string {
  if (typeof value === "number") return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toFixed(value < 10 ? 3 : 1);
  return String(value);
}

/** Every metric, the headline ones first (as the report leads with them). */
export function summaryTable(result: RunResult): string {
  const table = new Table({ head: [`${result.scenario}: metric`, "value"], style: { head: [], border: [] } });
  const headline = headlineMetrics(result);
  const first = new Set(headline.map(([key]) => key));
  for (const [key, value] of [...headline, ...flatten(result.metrics).filter(([key]) => !first.has(key))]) table.push([key, value === undefined ? "not measured" : show(value)]);
  return table.toString();
}

/**
 * Tall enough for the report's headline, its charts and then its rows. The configuration
 * and environment tables usually wrap below the metrics (the environment's version strings
 * are long), so their rows are counted on top of the metrics'.
 */
function screenshotHeight(result: RunResult): number {
  const rows = flatten(result.metrics).length + flatten(result.config).length + flatten(result.environment).length;
  return Math.max(2000, 600 + result.charts.length * 370 + rows * 21);
}

/** Writes the JSON, the HTML report beside it, and a PNG of the report where Chromium is installed. */
export function writeResult(result: RunResult, out?: string, options: { png?: boolean } = {}): { json: string; html: string; png?: string } {
  const json = resolve(out ?? join(RESULTS_DIR, `${result.scenario}-${result.startedAt.replace(/[:.]/g, "-")}.json`));
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify(result, null, 2) + "\n");
  const html = json.replace(/\.json$/, "") + ".html";
  writeFileSync(html, renderReport(result));
  const chromium = findExecutable("chromium") ?? findExecutable("chromium-browser");
  if (chromium === undefined || options.png === false) return { json, html };
  const png = html.replace(/\.html$/, ".png");
  try {
    execFileSync(
      chromium,
      ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars", "--virtual-time-budget=5000", `--screenshot=${png}`, `--window-size=1200,${screenshotHeight(result)}`, `file://${html}`],
      { stdio: "ignore", timeout: 60_000 },
    );
    return { json, html, png };
  } catch {
    return { json, html };
  }
}
