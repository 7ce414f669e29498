import type { BarChartSpec, LineChartSpec } from "./result.js";

/** The leader's heap and rss over a run, from `api.stats` samples. */
export function leaderMemoryChart(samples: readonly { t: number; value: { heapUsedBytes: number; rssBytes: number } }[]): LineChartSpec {
  return {
    title: "Leader memory",
    xLabel: "seconds",
    yLabel: "MiB",
    series: [
      { label: "heap used", points: samples.map((s) => ({ x: s.t, y: s.value.heapUsedBytes / 2 ** 20 })) },
      { label: "rss", points: samples.map((s) => ({ x: s.t, y: s.value.rssBytes / 2 ** 20 })) },
    ],
  };
}

/**
 * Labelled bars, for values measured per category (a configuration, a policy, an
 * experiment) where a line between neighbours would claim an order or a slope that is not
 * there. `values` is one series (one bar per category) or several, keyed by series label,
 * drawn side by side within each category. Every series must give every category a value.
 */
export function barChart(options: {
  title: string;
  xLabel: string;
  unit: string;
  categories: readonly string[];
  values: readonly number[] | Readonly<Record<string, readonly number[]>>;
}): BarChartSpec {
  const series = isSeriesList(options.values) ? [{ label: options.unit, values: [...options.values] }] : Object.entries(options.values).map(([label, values]) => ({ label, values: [...values] }));
  for (const { label, values } of series) {
    if (values.length !== options.categories.length) {
      throw new Error(`bar chart "${options.title}": series "${label}" has ${values.length} values for ${options.categories.length} categories`);
    }
  }
  return { kind: "bar", title: options.title, xLabel: options.xLabel, unit: options.unit, categories: [...options.categories], series };
}

function isSeriesList(values: readonly number[] | Readonly<Record<string, readonly number[]>>): values is readonly number[] {
  return Array.isArray(values);
}
