import {
  CONSTRAINT_OPERATORS,
  DEFAULT_MAX_SKEW,
  DEFAULT_PREFERENCE_WEIGHT,
  OPERATOR_ARITY,
  SPREAD_DOMAINS,
  type ConstraintOperator,
} from "@corral/contracts";
import type { SourcePosition } from "./errors.js";
import { CONSTRAINT_FIELDS, PREFERENCE_FIELDS, SPREAD_FIELDS } from "./field-names.js";
import { block, exampleBlock, exampleField, exampleValue, list, num, str, type Literal } from "./format.js";
import { comparePositions, entryPosition, type NormalizeContext } from "./normalize-context.js";
import { describeRaw, type RawEntry, type RawValue } from "./raw-value.js";
import { quoteAll, readCount, readMap, readOneOf, readScalarText, readString } from "./value-readers.js";

/**
 * Which machines the tasks may land on and how they are spread: constraints (hard rules),
 * preferences (weighted wishes, written like constraints) and spread across failure domains.
 * Most of the work is the operator's arity: `value` for one, `values` for a list, neither for
 * exists, each mix-up reported with what to write instead.
 */

type ConstraintKind = "constraints" | "preferences";

const OPERATOR_ALIASES: ReadonlyMap<string, ConstraintOperator> = new Map([
  ["=", "=="],
  ["===", "=="],
  ["eq", "=="],
  ["equals", "=="],
  ["is", "=="],
  ["ne", "!="],
  ["neq", "!="],
  ["<>", "!="],
  ["!==", "!="],
  ["not", "!="],
  ["nin", "not_in"],
  ["!in", "not_in"],
  ["exist", "exists"],
  ["has", "exists"],
  ["present", "exists"],
  ["!exists", "not_exists"],
  ["absent", "not_exists"],
  ["missing", "not_exists"],
]);

const DOMAIN_ALIASES: ReadonlyMap<string, string> = new Map([
  ["node", "machine"],
  ["host", "machine"],
  ["server", "machine"],
  ["racks", "rack"],
  ["power_domain", "power"],
  ["pdu", "power"],
]);

/** `constraints` or `preferences`: a list of blocks, each read by `readConstraint`. */
export function readConstraintList(ctx: NormalizeContext, entry: RawEntry | undefined, kind: ConstraintKind): unknown[] {
  if (entry === undefined) return [];
  const value = entry.value;
  if (value.kind !== "list") {
    const example = exampleField(ctx.format, kind, list(constraintExample(kind)));
    const fix = value.kind === "map" ? `put the block in a list, even when there is only one: ${example}` : `e.g. ${example}`;
    ctx.report(kind, `expected a list of ${kind}, found ${describeRaw(value)}; ${fix}`, value.position);
    return [];
  }
  // One entry per item, unreadable ones included, so indexes (and so positions) match the source.
  return value.items.map((item, index) => readConstraint(ctx, item, kind, index));
}

function constraintExample(kind: ConstraintKind): Literal {
  return kind === "constraints"
    ? block(["attribute", str("arch")], ["op", str("==")], ["value", str("x86_64")])
    : block(["attribute", str("ssd")], ["op", str("exists")], ["weight", num("20")]);
}

function readConstraint(ctx: NormalizeContext, item: RawValue, kind: ConstraintKind, index: number): Record<string, unknown> | undefined {
  const path = `${kind}.${index}`;
  const noun = kind === "constraints" ? "constraint" : "preference";
  ctx.positions.set(path, item.position);
  if (item.kind !== "map") {
    ctx.report(path, `each ${noun} is a block of fields, found ${describeRaw(item)}; e.g. ${exampleValue(ctx.format, constraintExample(kind))}`, item.position);
    return undefined;
  }
  const fields = ctx.fields(item, kind === "constraints" ? CONSTRAINT_FIELDS : PREFERENCE_FIELDS, path);
  const result: Record<string, unknown> = {};

  const attribute = fields.get("attribute");
  if (attribute === undefined) {
    ctx.missing(`${path}.attribute`, `add the machine attribute the ${noun} tests, e.g. ${exampleField(ctx.format, "attribute", str("arch"))}`);
  } else {
    result.attribute = readString(ctx, attribute.value, `${path}.attribute`, str("arch"));
  }

  const opEntry = fields.get("op");
  let op: ConstraintOperator | undefined;
  if (opEntry === undefined) {
    ctx.missing(`${path}.op`, `add how to compare, one of ${quoteAll(CONSTRAINT_OPERATORS)}, e.g. ${exampleField(ctx.format, "op", str("=="))}`);
  } else {
    op = readOneOf(ctx, opEntry.value, `${path}.op`, CONSTRAINT_OPERATORS, { what: "op", aliases: OPERATOR_ALIASES });
  }
  result.op = op;
  result.values = readConstraintValues(ctx, fields, path, op, opEntry === undefined ? item.position : opEntry.value.position);

  if (kind === "preferences") {
    const weight = fields.get("weight");
    result.weight = weight === undefined ? DEFAULT_PREFERENCE_WEIGHT : readCount(ctx, weight.value, `${path}.weight`, "20");
  }
  return result;
}

/**
 * `value = 'x'` (for == and !=) or `values = ['a', 'b']` (for in and not_in), neither for
 * exists and not_exists; both become JobSpec `values`. A spelling that does not suit the
 * operator is reported with what to write instead.
 */
function readConstraintValues(
  ctx: NormalizeContext,
  fields: ReadonlyMap<string, RawEntry>,
  path: string,
  op: ConstraintOperator | undefined,
  opPosition: SourcePosition,
): string[] | undefined {
  const specPath = `${path}.values`;
  const single = fields.get("value");
  const several = fields.get("values");
  const show = (key: "value" | "values") => ctx.labels.set(specPath, `${path}.${key}`);
  /** `op = 'in'` in the file's syntax. */
  const opField = (operator: ConstraintOperator) => exampleField(ctx.format, "op", str(operator));

  if (single !== undefined && several !== undefined) {
    const later = comparePositions(single.keyPosition, several.keyPosition) > 0 ? single : several;
    show(later === single ? "value" : "values");
    ctx.report(
      specPath,
      `give either value (one value, for '==' and '!=') or values (a list, for 'in' and 'not_in'), not both; e.g. ${exampleField(ctx.format, "value", str("x86_64"))} or ${exampleField(ctx.format, "values", list(str("r1"), str("r2")))}`,
      entryPosition(later),
    );
    return undefined;
  }

  const arity = op === undefined ? undefined : OPERATOR_ARITY[op];
  const opName = `'${op ?? ""}'`;

  if (single !== undefined) {
    show("value");
    ctx.labels.set(`${specPath}.0`, `${path}.value`);
    ctx.positions.set(`${specPath}.0`, single.value.position);
    const where = entryPosition(single);
    if (arity === "none") {
      const instead = single.value.kind === "list" ? "" : `, or use ${opField(op === "exists" ? "==" : "!=")} to compare with a value`;
      ctx.report(specPath, `${opName} takes no value: it only checks whether the machine has the attribute. Remove value${instead}`, where);
      return undefined;
    }
    if (single.value.kind === "list") {
      const texts = readValueTexts(ctx, single.value.items, specPath);
      const example = exampleField(ctx.format, "values", texts === undefined || texts.length === 0 ? list(str("r1"), str("r2")) : list(...texts.map(str)));
      const fix = arity === "many" ? `a list goes in values: ${example}` : `to match any of several values use ${opField(op === "!=" ? "not_in" : "in")} with ${example}`;
      ctx.report(specPath, `value holds a single value, found a list; ${fix}`, where);
      return undefined;
    }
    const text = readScalarText(ctx, single.value, specPath, "a constraint value");
    if (text === undefined) return undefined;
    if (arity === "many") {
      ctx.report(
        specPath,
        `${opName} takes a list of values: write ${exampleField(ctx.format, "values", list(str(text)))} (or use ${opField(op === "in" ? "==" : "!=")} for a single value)`,
        where,
      );
      return undefined;
    }
    return [text];
  }

  if (several !== undefined) {
    show("values");
    const where = entryPosition(several);
    if (arity === "none") {
      ctx.report(
        specPath,
        `${opName} takes no values: it only checks whether the machine has the attribute. Remove values, or use ${opField(op === "exists" ? "in" : "not_in")} to compare with them`,
        where,
      );
      return undefined;
    }
    if (several.value.kind !== "list") {
      const text = readScalarText(ctx, several.value, specPath, "a constraint value");
      if (text === undefined) return undefined;
      const fix = arity === "one" ? `${opName} compares with one value, written ${exampleField(ctx.format, "value", str(text))}` : `write ${exampleField(ctx.format, "values", list(str(text)))}`;
      ctx.report(specPath, `values is a list, found ${describeRaw(several.value)}; ${fix}`, where);
      return undefined;
    }
    const texts = readValueTexts(ctx, several.value.items, specPath);
    if (texts === undefined) return undefined;
    const [first = "x86_64"] = texts;
    if (arity === "one") {
      const fix =
        texts.length <= 1
          ? `write ${exampleField(ctx.format, "value", str(first))} instead of a list`
          : `to match any of them use ${opField(op === "==" ? "in" : "not_in")}, or keep one: ${exampleField(ctx.format, "value", str(first))}`;
      const found = texts.length === 1 ? "a list" : texts.length === 0 ? "an empty list" : `${texts.length} values`;
      ctx.report(specPath, `${opName} compares with exactly one value, found ${found}; ${fix}`, where);
      return undefined;
    }
    if (arity === "many" && texts.length === 0) {
      ctx.report(specPath, `${opName} needs at least one value, found an empty list; e.g. ${exampleField(ctx.format, "values", list(str("r1"), str("r2")))}`, where);
      return undefined;
    }
    return texts;
  }

  if (arity === "one") {
    show("value");
    ctx.report(specPath, `is missing; ${opName} compares the attribute with one value, e.g. ${exampleField(ctx.format, "value", str("x86_64"))}`, opPosition);
    return undefined;
  }
  if (arity === "many") {
    ctx.report(specPath, `is missing; ${opName} matches any of a list of values, e.g. ${exampleField(ctx.format, "values", list(str("r1"), str("r2")))}`, opPosition);
    return undefined;
  }
  return [];
}

/** The texts of a list of values, or undefined (with each bad one reported) if any is not a scalar. */
function readValueTexts(ctx: NormalizeContext, items: readonly RawValue[], specPath: string): string[] | undefined {
  const texts: string[] = [];
  let ok = true;
  items.forEach((item, index) => {
    const path = `${specPath}.${index}`;
    ctx.positions.set(path, item.position);
    const text = readScalarText(ctx, item, path, "a constraint value");
    if (text === undefined) ok = false;
    else texts.push(text);
  });
  return ok ? texts : undefined;
}

/**
 * `spread = { across = 'rack' max_skew = 1 }`: the failure domain to spread the tasks across,
 * and how unevenly; `spread = 'none'`: not even over machines, as jobs are by default.
 */
export function readSpread(ctx: NormalizeContext, value: RawValue): Record<string, unknown> | "none" | undefined {
  const example = exampleBlock(ctx.format, "spread", [
    ["across", str("rack")],
    ["max_skew", num("1")],
  ]);
  if (value.kind === "string" && value.value === "none") return "none";
  if (value.kind !== "map" && value.kind !== "null") {
    ctx.report(
      "spread",
      `expected 'none' (the tasks may share machines as the cell's policy packs them) or a block of fields, found ${describeRaw(value)}; e.g. ${example}`,
      value.position,
    );
    return undefined;
  }
  const map = readMap(ctx, value, "spread", example);
  if (map === undefined) return undefined;
  const fields = ctx.fields(map, SPREAD_FIELDS, "spread");
  const spread: Record<string, unknown> = {};
  const across = fields.get("across");
  if (across === undefined) {
    ctx.missing(
      "spread.across",
      `say which failure domain to spread the tasks across, one of ${quoteAll(SPREAD_DOMAINS)}, e.g. ${exampleField(ctx.format, "across", str("rack"))}`,
    );
  } else {
    spread.across = readOneOf(ctx, across.value, "spread.across", SPREAD_DOMAINS, { what: "failure domain", aliases: DOMAIN_ALIASES });
  }
  const maxSkew = fields.get("max_skew");
  spread.maxSkew = maxSkew === undefined ? DEFAULT_MAX_SKEW : readCount(ctx, maxSkew.value, "spread.maxSkew", "1");
  return spread;
}
