import { federationOf, type JobRuntime } from "@corral/contracts";
import test from "ava";
import fc from "fast-check";
import { stringify } from "yaml";
import { parseJobSpec, SpecError, type SpecFormat } from "../index.js";
import { quoteBorg } from "./support/print-borg.js";

/**
 * Runtime blocks with any mix of fields, well and badly written, judged against the federation
 * rules written out here, independently of the schema and the parser.
 */

type DraftScalar = string | number | boolean;
type DraftValue = DraftScalar | DraftScalar[] | Record<string, number>;
interface RuntimeDraft {
  cell?: DraftValue;
  cells?: DraftValue;
  policy?: DraftValue;
  weights?: DraftValue;
  spill_after?: DraftValue;
  max_disruption?: DraftValue;
}

const FORMATS: SpecFormat[] = ["borg", "yaml", "json"];
const CELL = /^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/;
/** What the duration texts below mean, in milliseconds; anything else is not a duration. */
const DURATIONS: Readonly<Record<string, number>> = { "0s": 0, "500ms": 500, "1s": 1000, "30s": 30_000, "45s": 45_000, "1m30s": 90_000, "1h": 3_600_000, "1h1s": 3_601_000, "2h": 7_200_000 };

const cellName = fc.constantFrom("a", "b", "us-east1", "eu-west1", "c-2", "9");
const cellList = fc.oneof(
  { arbitrary: fc.uniqueArray(cellName, { minLength: 1, maxLength: 4 }), weight: 6 },
  { arbitrary: fc.array(fc.oneof(cellName, fc.constantFrom("Bad", "", 7, true)), { maxLength: 4 }), weight: 2 },
  { arbitrary: fc.constant(Array.from({ length: 17 }, (_, index) => `c${index}`)), weight: 1 },
);

/** Drafts written the way the rules want, mostly, so that accepted blocks are exercised as much as refused ones. */
const wellFormed: fc.Arbitrary<RuntimeDraft> = fc
  .record({
    cells: fc.uniqueArray(cellName, { minLength: 1, maxLength: 4 }),
    policy: fc.option(fc.constantFrom("spread", "fill", "pin"), { nil: undefined }),
    weights: fc.option(fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 4, maxLength: 4 }), { nil: undefined }),
    spill_after: fc.option(fc.constantFrom("1s", "30s", "1m30s", "1h"), { nil: undefined }),
    max_disruption: fc.option(fc.constantFrom(1, 5, 10_000), { nil: undefined }),
  })
  .map(({ cells, policy, weights, ...rest }) => {
    const draft: RuntimeDraft = { cells: policy === "pin" ? cells.slice(0, 1) : cells };
    if (policy !== undefined) draft.policy = policy;
    if (weights !== undefined && policy !== "fill" && policy !== "pin") draft.weights = weights.slice(0, cells.length);
    for (const [key, value] of Object.entries(rest)) if (value !== undefined) Object.assign(draft, { [key]: value });
    return draft;
  });

const anyDraft: fc.Arbitrary<RuntimeDraft> = fc.record(
  {
    cell: fc.oneof(cellName, fc.constantFrom("Bad", 5), fc.constant<DraftValue>(["a", "b"])),
    cells: fc.oneof(cellList, fc.constantFrom("a", 3)),
    policy: fc.constantFrom("spread", "fill", "pin", "fil", "Spread", "pinned", 2),
    weights: fc.oneof(
      fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 5 }),
      fc.array(fc.constantFrom(0, 1, 2, 1000, 1001, 2.5, "2"), { minLength: 1, maxLength: 4 }),
      fc.constantFrom(2, { a: 2, b: 1 }),
    ),
    spill_after: fc.oneof(fc.constantFrom(...Object.keys(DURATIONS)), fc.constantFrom("30", "5x", 30, 0)),
    max_disruption: fc.constantFrom(1, 10_000, 0, 10_001, 1.5, "1"),
  },
  { requiredKeys: [] },
);

/** Jobs in one cell: the cell they are submitted to, or a cell named. */
const singleCell: fc.Arbitrary<RuntimeDraft> = fc.oneof(fc.constant({}), cellName.map((cell) => ({ cell })));

const draft = fc.oneof({ arbitrary: wellFormed, weight: 3 }, { arbitrary: anyDraft, weight: 2 }, { arbitrary: singleCell, weight: 1 });

const isWhole = (value: DraftValue | undefined, min: number, max: number): value is number => typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;

/** What the block must parse to, or undefined when it must be refused. */
function judge(draft: RuntimeDraft): JobRuntime | undefined {
  const runtime: JobRuntime = {};
  if (draft.cell !== undefined) {
    if (typeof draft.cell !== "string" || !CELL.test(draft.cell)) return undefined;
    runtime.cell = draft.cell;
  }
  const { cells } = draft;
  const federated = [draft.policy, draft.weights, draft.spill_after, draft.max_disruption].some((value) => value !== undefined);
  if (cells === undefined) return federated ? undefined : runtime;
  if (draft.cell !== undefined) return undefined;
  if (!Array.isArray(cells) || cells.length < 1 || cells.length > 16) return undefined;
  if (!cells.every((cell): cell is string => typeof cell === "string" && CELL.test(cell))) return undefined;
  if (new Set(cells).size !== cells.length) return undefined;
  runtime.cells = cells;
  const { policy } = draft;
  if (policy !== undefined) {
    if (policy !== "spread" && policy !== "fill" && policy !== "pin") return undefined;
    runtime.policy = policy;
  }
  if ((policy ?? "spread") === "pin" && cells.length !== 1) return undefined;
  const { weights } = draft;
  if (weights !== undefined) {
    if ((policy ?? "spread") !== "spread" || !Array.isArray(weights) || weights.length !== cells.length) return undefined;
    if (!weights.every((weight): weight is number => isWhole(weight, 1, 1000))) return undefined;
    runtime.weights = weights;
  }
  if (draft.spill_after !== undefined) {
    const ms = typeof draft.spill_after === "string" ? DURATIONS[draft.spill_after] : undefined;
    if (ms === undefined || ms < 1000 || ms > 3_600_000) return undefined;
    runtime.spillAfterMs = ms;
  }
  if (draft.max_disruption !== undefined) {
    if (!isWhole(draft.max_disruption, 1, 10_000)) return undefined;
    runtime.maxDisruption = draft.max_disruption;
  }
  return runtime;
}

function borgValue(key: string, value: DraftValue): string {
  if (Array.isArray(value)) return `[${value.map((item) => borgValue(key, item)).join(", ")}]`;
  if (typeof value === "object") return `{ ${Object.entries(value).map(([cell, weight]) => `${cell} = ${weight}`).join(" ")} }`;
  // Durations bare, as people write them (`30s`); other text quoted.
  if (typeof value === "string") return key === "spill_after" && /^\d[0-9a-z]*$/.test(value) ? value : quoteBorg(value, "'");
  return String(value);
}

/** The job, its runtime block last, and the line the block starts on. */
function draftSource(draft: RuntimeDraft, format: SpecFormat): { source: string; runtimeLine: number } {
  if (format === "borg") {
    const fields = Object.entries(draft).map(([key, value]: [string, DraftValue]) => `    ${key} = ${borgValue(key, value)}`);
    return { source: ["job j = {", "  binary = 'b'", "  requirements = { ram = 1M cpu = 1 }", "  replicas = 1", "  runtime = {", ...fields, "  }", "}", ""].join("\n"), runtimeLine: 5 };
  }
  const job = { job: "j", binary: "b", requirements: { ram: "1M", cpu: 1 }, replicas: 1, runtime: draft };
  const source = format === "json" ? JSON.stringify(job, null, 2) : stringify(job);
  return { source, runtimeLine: source.split("\n").findIndex((line) => /^\s*"?runtime"?:/.test(line)) + 1 };
}

test("the runtime generator makes accepted and refused blocks of every kind", (t) => {
  const judged = fc.sample(draft, { numRuns: 400, seed: 1 }).map((sample) => judge(sample));
  t.true(judged.filter((runtime) => runtime === undefined).length > 50);
  for (const policy of ["spread", "fill", "pin"]) t.true(judged.some((runtime) => runtime?.policy === policy), policy);
  t.true(judged.some((runtime) => runtime?.weights !== undefined && runtime.spillAfterMs !== undefined && runtime.maxDisruption !== undefined));
  t.true(judged.some((runtime) => runtime !== undefined && runtime.cells === undefined));
});

test("random runtime blocks parse exactly when the federation rules allow, and errors name runtime fields in the block", (t) => {
  fc.assert(
    fc.property(draft, fc.constantFrom(...FORMATS), (written, format) => {
      const { source, runtimeLine } = draftSource(written, format);
      const expected = judge(written);
      try {
        const spec = parseJobSpec(source, { file: `runtime.${format}` });
        t.not(expected, undefined, `accepted:\n${source}`);
        t.deepEqual(spec.runtime, expected, source);
        // Resolved settings always have one weight per cell.
        const federation = federationOf(spec);
        if (federation !== undefined) t.is(federation.weights.length, federation.cells.length);
      } catch (error) {
        if (!(error instanceof SpecError)) throw error;
        t.is(expected, undefined, `${error.message}\n${source}`);
        const lineCount = source.split("\n").length;
        for (const issue of error.issues) {
          t.regex(issue.field ?? "", /^runtime\.(cell|cells|policy|weights|spill_after|max_disruption)(\.\d+)?$/, `${error.message}\n${source}`);
          t.true(issue.line !== undefined && issue.line >= runtimeLine && issue.line <= lineCount, `${error.message}\n${source}`);
          t.true(issue.message.length > 0);
        }
      }
    }),
    { numRuns: 800 },
  );
});
