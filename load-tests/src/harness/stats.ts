/** Percentile by nearest rank of an unsorted sample; NaN for an empty one. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export interface Distribution {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  count: number;
}

export function distribution(values: readonly number[]): Distribution {
  return {
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
    count: values.length,
  };
}

/** Points of an empirical CDF, thinned to at most `points`, for charts. */
export function cdf(values: readonly number[], points = 200): { x: number; y: number }[] {
  const sorted = [...values].sort((a, b) => a - b);
  const step = Math.max(1, Math.floor(sorted.length / points));
  const result: { x: number; y: number }[] = [];
  for (let i = 0; i < sorted.length; i += step) result.push({ x: sorted[i]!, y: (i + 1) / sorted.length });
  if (sorted.length > 0) result.push({ x: sorted[sorted.length - 1]!, y: 1 });
  return result;
}

/** A record's values added up, leaving out the one under `except` (a cell, say). */
export function sumOf(counts: Record<string, number>, except?: string): number {
  return Object.entries(counts).reduce((total, [key, n]) => (key === except ? total : total + n), 0);
}
