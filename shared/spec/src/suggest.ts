/** Edit distance where swapping two neighbours counts as one edit (`rma` → `ram`). */
function distance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? Math.max(a.length, b.length);
}

/** The allowed word a typo most likely meant, if any is close enough to suggest. */
export function closest(word: string, allowed: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  // Long words (a pasted path, a whole line) are never typos of a field name; skip the work.
  if (lower.length === 0 || lower.length > 40) return undefined;
  const limit = lower.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of allowed) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // An abbreviation (`prod`, `best`) is as good a hint as a typo.
  return best ?? (lower.length >= 3 ? allowed.find((candidate) => candidate.toLowerCase().startsWith(lower)) : undefined);
}

/** " Did you mean 'ram'?" or nothing. */
export function didYouMean(word: string, allowed: readonly string[]): string {
  const match = closest(word, allowed);
  return match === undefined ? "" : ` Did you mean '${match}'?`;
}
