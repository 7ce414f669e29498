import type { ChartSpec } from "./result.js";

/** The leader's heap and rss over a run, from `api.stats` samples. */
export function leaderMemoryChart(samples: readonly { t: number; value: { heapUsedBytes: number; rssBytes: number } }[]): ChartSpec {
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
