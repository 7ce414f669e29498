import { DEFAULT_FEDERATION_WEIGHT, FEDERATION_POLICIES, MAX_FEDERATION_WEIGHT } from "@corral/contracts";
import { FEDERATION_FIELDS, RUNTIME_FIELDS } from "./field-names.js";
import { exampleBlock, exampleField, exampleValue, list, num, str } from "./format.js";
import { entryPosition, type NormalizeContext } from "./normalize-context.js";
import { describeRaw, type RawEntry, type RawValue } from "./raw-value.js";
import { readCount, readDuration, readMap, readOneOf, readString } from "./value-readers.js";

/**
 * Where a job runs: one cell, or for a federated job several, with how it is shared between
 * them. Apart from the other parts because federation has rules of its own that only the
 * source can explain (a cell written as a list, weights keyed by cell, an alloc set federated).
 */

/** Other names for the federation policies; only ever a hint. */
const POLICY_ALIASES: ReadonlyMap<string, string> = new Map([
  ["balance", "spread"],
  ["balanced", "spread"],
  ["even", "spread"],
  ["weighted", "spread"],
  ["spreads", "spread"],
  ["pack", "fill"],
  ["binpack", "fill"],
  ["failover", "fill"],
  ["ordered", "fill"],
  ["order", "fill"],
  ["priority", "fill"],
  ["first", "fill"],
  ["pinned", "pin"],
  ["fixed", "pin"],
  ["single", "pin"],
  ["sticky", "pin"],
]);

/**
 * `runtime = { cell = 'local' }`, or for a federated job `runtime = { cells = ['a', 'b'] policy = 'spread'
 * weights = [2, 1] spill_after = 30s max_disruption = 1 }`. What the settings must be, alone and together,
 * is the schema's to judge; here what each is written as, and what only the source can explain. When
 * the cells or the policy cannot be read they are left as null, which the schema refuses (a refusal
 * reported already), so that it judges nothing against what they might have been.
 */
export function readRuntime(ctx: NormalizeContext, value: RawValue, allocSet: RawEntry | undefined): Record<string, unknown> {
  const runtime: Record<string, unknown> = {};
  const map = readMap(ctx, value, "runtime", exampleBlock(ctx.format, "runtime", [["cell", str("local")]]));
  if (map === undefined) return runtime;
  const fields = ctx.fields(map, RUNTIME_FIELDS, "runtime");
  const cell = fields.get("cell");
  if (cell !== undefined) runtime.cell = readCell(ctx, cell.value);
  const cells = fields.get("cells");
  if (cells === undefined) {
    federationWithoutCells(ctx, fields, cell);
    return runtime;
  }
  runtime.cells = readCells(ctx, cells.value);
  federatedInAllocSet(ctx, cells, allocSet);

  const policy = fields.get("policy");
  if (policy !== undefined) {
    runtime.policy = readOneOf(ctx, policy.value, "runtime.policy", FEDERATION_POLICIES, { what: "federation policy", fallback: "spread", aliases: POLICY_ALIASES }) ?? null;
  }
  const weights = fields.get("weights");
  if (weights !== undefined) runtime.weights = readWeights(ctx, weights.value, runtime.cells);
  const spillAfter = fields.get("spill_after");
  if (spillAfter !== undefined) runtime.spillAfterMs = readDuration(ctx, spillAfter.value, "runtime.spillAfterMs", "30s");
  const maxDisruption = fields.get("max_disruption");
  if (maxDisruption !== undefined) runtime.maxDisruption = readCount(ctx, maxDisruption.value, "runtime.maxDisruption", "1");
  return runtime;
}

/** One cell's name; a list of them is what `cells` is for. */
function readCell(ctx: NormalizeContext, value: RawValue): string | undefined {
  if (value.kind !== "list") return readString(ctx, value, "runtime.cell", str("local"));
  ctx.positions.set("runtime.cell", value.position);
  const names = value.items.flatMap((item) => (item.kind === "string" ? [item.value] : []));
  const cells = exampleField(ctx.format, "cells", list(...(names.length > 0 ? names : ["us-east1", "us-west1"]).map(str)));
  ctx.report(
    "runtime.cell",
    `expected a ${ctx.format === "borg" ? "quoted " : ""}string, found a list; e.g. ${exampleField(ctx.format, "cell", str("local"))} for one cell, or ${cells} for a federated job`,
    value.position,
  );
  return undefined;
}

/** A federated job's cells: a list of names, each its own item. */
function readCells(ctx: NormalizeContext, value: RawValue): Array<string | null> | null {
  const path = "runtime.cells";
  if (value.kind !== "list") {
    const one = value.kind === "string" ? value.value : undefined;
    const fix =
      one === undefined
        ? `e.g. ${exampleField(ctx.format, "cells", list(str("us-east1"), str("us-west1")))}`
        : `write ${exampleField(ctx.format, "cells", list(str(one)))}, or ${exampleField(ctx.format, "cell", str(one))} for a job in one cell`;
    ctx.report(path, `expected a list of cell names, found ${describeRaw(value)}; ${fix}`, value.position);
    return null;
  }
  return value.items.map((item, index) => {
    const itemPath = `${path}.${index}`;
    ctx.positions.set(itemPath, item.position);
    if (item.kind === "string") return item.value;
    const written = item.kind === "number" || item.kind === "quantity" ? item.text : item.kind === "boolean" ? String(item.value) : undefined;
    const fix = written === undefined ? `e.g. ${exampleValue(ctx.format, str("us-east1"))}` : `quote it: ${exampleValue(ctx.format, str(written))}`;
    ctx.report(itemPath, `a cell name is a ${ctx.format === "borg" ? "quoted " : ""}string, found ${describeRaw(item)}; ${fix}`, item.position);
    return null;
  });
}

/**
 * Under policy spread, each cell's share: a list of whole numbers in the order of the cells. A weight
 * that cannot be read stands in as 1, so the others keep their places and are judged still.
 */
function readWeights(ctx: NormalizeContext, value: RawValue, cells: unknown): number[] | undefined {
  const path = "runtime.weights";
  const known = Array.isArray(cells) && cells.every((cell) => typeof cell === "string") ? (cells as string[]) : undefined;
  const example = exampleField(ctx.format, "weights", list(...(known ?? ["a", "b"]).map((_, index) => num(index === 0 ? "2" : "1"))));
  if (value.kind === "list") {
    return value.items.map((item, index) => {
      const itemPath = `${path}.${index}`;
      ctx.positions.set(itemPath, item.position);
      if (item.kind === "number" && Number.isInteger(item.value)) return item.value;
      const bare = item.kind === "string" && /^\d+$/.test(item.value.trim()) ? ` without quotes: ${item.value.trim()}` : `, e.g. ${example}`;
      ctx.report(itemPath, `a weight is a whole number from 1 to ${MAX_FEDERATION_WEIGHT}, found ${describeRaw(item)}; write it${bare}`, item.position);
      return DEFAULT_FEDERATION_WEIGHT;
    });
  }
  if (value.kind === "map" && value.entries.length > 0 && value.entries.every((entry) => entry.value.kind === "number")) {
    // Weights keyed by cell: the same thing as a list, once it is in the order of the cells.
    const byCell = new Map(value.entries.map((entry) => [entry.key, entry.value.kind === "number" ? entry.value.text : "1"]));
    const sameCells = known !== undefined && known.length === byCell.size && known.every((cell) => byCell.has(cell));
    const order = sameCells ? known : [...byCell.keys()];
    const asList = exampleField(ctx.format, "weights", list(...order.map((cell) => num(byCell.get(cell) ?? "1"))));
    const cellsToo = sameCells ? "" : ` with ${exampleField(ctx.format, "cells", list(...order.map(str)))}`;
    ctx.report(path, `weights is a list, one weight per cell in the order of cells, not a map; write ${asList}${cellsToo}`, value.position);
    return undefined;
  }
  ctx.report(path, `expected a list of weights, one per cell in the order of cells, found ${describeRaw(value)}; e.g. ${example}`, value.position);
  return undefined;
}

/** policy, weights, spill_after and max_disruption say how a job is shared between its cells: without cells there is nothing to share. */
function federationWithoutCells(ctx: NormalizeContext, fields: ReadonlyMap<string, RawEntry>, cell: RawEntry | undefined): void {
  const one = cell?.value.kind === "string" ? cell.value.value : undefined;
  for (const key of FEDERATION_FIELDS) {
    const entry = fields.get(key);
    if (entry === undefined) continue;
    const fix =
      one === undefined
        ? `add the cells it runs in, e.g. ${exampleField(ctx.format, "cells", list(str("us-east1"), str("us-west1")))}, or leave ${key} out`
        : `this job runs in one cell (${exampleField(ctx.format, "cell", str(one))}); leave ${key} out, or federate the job by listing its cells in place of cell, e.g. ` +
          exampleField(ctx.format, "cells", list(str(one), str(one === "us-west1" ? "us-east1" : "us-west1")));
    ctx.report(ctx.jobSpecPath(`runtime.${key}`), `${key} is for a federated job, one that lists its cells in cells; ${fix}`, entryPosition(entry), `runtime.${key}`);
  }
}

/** An alloc set lives in one cell, and so does every job that runs in one. */
function federatedInAllocSet(ctx: NormalizeContext, cells: RawEntry, allocSet: RawEntry | undefined): void {
  const path = "runtime.cells";
  const first = cells.value.kind === "list" && cells.value.items[0]?.kind === "string" ? cells.value.items[0].value : "us-east1";
  const oneCell = exampleField(ctx.format, "cell", str(first));
  if (ctx.kind === "alloc") {
    // With the kind in doubt, the cells may well be right (in a job): leave it to the kind's error.
    if (ctx.kindUnsure) ctx.reported.add(path);
    else ctx.report(path, `an alloc set lives in one cell, so it cannot be federated: give it one cell, e.g. ${oneCell}`, cells.keyPosition);
  } else if (allocSet !== undefined) {
    ctx.report(
      path,
      `this job runs in an alloc set (alloc_set, line ${allocSet.keyPosition.line}), and an alloc set lives in one cell, so the job cannot be federated: ` +
        `give it the alloc set's cell, e.g. ${oneCell}, or leave alloc_set out`,
      cells.keyPosition,
    );
  }
}
