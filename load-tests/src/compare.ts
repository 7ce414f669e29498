import { readFileSync } from "node:fs";
import Table from "cli-table3";
import { flatten, type RunResult } from "./harness/result.js";

/** Two runs' metrics side by side, with B/A ratios for numbers. */
export function compareRuns(fileA: string, fileB: string): string {
  const [a, b] = [fileA, fileB].map((file) => JSON.parse(readFileSync(file, "utf8")) as RunResult) as [RunResult, RunResult];
  if (a.scenario !== b.scenario) throw new Error(`${fileA} is a ${a.scenario} run and ${fileB} a ${b.scenario} run; compare runs of one scenario`);
  const left = new Map(flatten(a.metrics));
  const right = new Map(flatten(b.metrics));
  const table = new Table({ head: [`${a.scenario} metric`, "A", "B", "B/A"], style: { head: [], border: [] } });
  for (const key of new Set([...left.keys(), ...right.keys()])) {
    const x = left.get(key);
    const y = right.get(key);
    const ratio = typeof x === "number" && typeof y === "number" && x !== 0 ? (y / x).toFixed(3) : "";
    table.push([key, String(x ?? ""), String(y ?? ""), ratio]);
  }
  return `A: ${fileA} (${a.startedAt})\nB: ${fileB} (${b.startedAt})\n${table.toString()}`;
}
