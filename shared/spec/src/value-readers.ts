import { exampleField, num, qty, type Literal } from "./format.js";
import type { NormalizeContext } from "./normalize-context.js";
import { describeRaw, type RawEntry, type RawMap, type RawValue } from "./raw-value.js";
import { didYouMean } from "./suggest.js";
import { parseDuration } from "./units.js";

/**
 * Readers for single values (text, flags, amounts, counts, words from a fixed set) shared by
 * every part of the spec. Each records where the value was written, and on a bad value reports
 * what was found and what to write instead, in the file's syntax, and returns undefined.
 */

export function readString(ctx: NormalizeContext, value: RawValue, path: string, example: Literal): string | undefined {
  ctx.positions.set(path, value.position);
  if (value.kind === "string") return value.value;
  const key = ctx.sourceKey(path);
  const found = describeRaw(value);
  const written = value.kind === "number" || value.kind === "quantity" ? value.text : value.kind === "boolean" ? String(value.value) : undefined;
  // A number or boolean where text belongs usually just needs quotes, so say exactly that.
  const fix = written === undefined ? `e.g. ${exampleField(ctx.format, key, example)}` : `quote it: ${exampleField(ctx.format, key, { kind: "string", text: ctx.format === "yaml" ? `'${written}'` : written })}`;
  ctx.report(path, `expected a ${ctx.format === "borg" ? "quoted " : ""}string, found ${found}; ${fix}`, value.position);
  return undefined;
}

export function readBoolean(ctx: NormalizeContext, value: RawValue, path: string): boolean | undefined {
  ctx.positions.set(path, value.position);
  if (value.kind === "boolean") return value.value;
  const key = ctx.sourceKey(path);
  const written = value.kind === "string" ? value.value.trim().toLowerCase() : "";
  const meant = written === "true" || written === "yes" || written === "on" ? "true" : written === "false" || written === "no" || written === "off" ? "false" : undefined;
  const fix =
    meant === undefined
      ? `e.g. ${exampleField(ctx.format, key, { kind: "verbatim", text: "true" })}`
      : `write ${exampleField(ctx.format, key, { kind: "verbatim", text: meant })}, without quotes`;
  ctx.report(path, `expected true or false, found ${describeRaw(value)}; ${fix}`, value.position);
  return undefined;
}

/** A block of fields; YAML's empty value is an empty block. */
export function readMap(ctx: NormalizeContext, value: RawValue, path: string, example: string): RawMap | undefined {
  if (value.kind === "map") return value;
  if (value.kind === "null") return { kind: "map", entries: [], position: value.position };
  ctx.report(path, `expected a block of fields, found ${describeRaw(value)}; e.g. ${example}`, value.position);
  return undefined;
}

/** Sizes and CPU: a plain number is already in the base unit, text carries its own unit. */
export function readUnit(ctx: NormalizeContext, value: RawValue, path: string, parse: (text: string | number) => number, example: Literal): number | undefined {
  const key = ctx.sourceKey(path);
  if (value.kind !== "number" && value.kind !== "quantity" && value.kind !== "string") {
    ctx.report(path, `expected an amount, found ${describeRaw(value)}; e.g. ${exampleField(ctx.format, key, example)}`, value.position);
    return undefined;
  }
  try {
    return parse(value.kind === "number" ? value.value : value.kind === "string" ? value.value : value.text);
  } catch (error) {
    ctx.report(path, (error as Error).message, value.position);
    return undefined;
  }
}

/** Milliseconds; unlike sizes, a bare number other than 0 is refused, since no unit is the obvious one. */
export function readDuration(ctx: NormalizeContext, value: RawValue, path: string, example: string): number | undefined {
  const key = ctx.sourceKey(path);
  if (value.kind === "number" && value.value !== 0) {
    ctx.report(path, `${value.text} needs a unit; e.g. ${exampleField(ctx.format, key, qty(example))} (ms, s, m and h work)`, value.position);
    return undefined;
  }
  return readUnit(ctx, value, path, parseDuration, qty(example));
}

/** A whole number; whether it is in range is the schema's to say. */
export function readCount(ctx: NormalizeContext, value: RawValue, path: string, example: string): number | undefined {
  if (value.kind === "number" && Number.isInteger(value.value)) return value.value;
  const key = ctx.sourceKey(path);
  ctx.report(path, `expected a whole number, found ${describeRaw(value)}; e.g. ${exampleField(ctx.format, key, num(example))}`, value.position);
  return undefined;
}

/** An optional word from a fixed set, `fallback` when it is absent or empty. */
export function readChoice(ctx: NormalizeContext, entry: RawEntry | undefined, path: string, allowed: readonly string[], fallback: string): string | undefined {
  if (entry === undefined || entry.value.kind === "null") return fallback;
  return readOneOf(ctx, entry.value, path, allowed, { what: path, fallback });
}

/** One of a fixed set of words; anything else is reported with the options and the likeliest one meant. */
export function readOneOf<T extends string>(
  ctx: NormalizeContext,
  value: RawValue,
  path: string,
  allowed: readonly T[],
  options: { what: string; fallback?: string; aliases?: ReadonlyMap<string, string> },
): T | undefined {
  const chosen = allowed.find((option) => value.kind === "string" && value.value === option);
  if (chosen !== undefined) return chosen;
  const found = value.kind === "string" ? `'${value.value}'` : describeRaw(value);
  let hint = "";
  if (value.kind === "string") {
    const alias = options.aliases?.get(value.value.trim().toLowerCase());
    hint = alias === undefined ? didYouMean(value.value, allowed) : ` Did you mean '${alias}'?`;
  }
  const fallback = options.fallback === undefined ? "" : ` (default '${options.fallback}')`;
  ctx.report(path, `${found} is not a valid ${options.what}; use one of ${quoteAll(allowed)}${fallback}.${hint}`, value.position);
  return undefined;
}

/** Text for args, env, constraint values and commands, where `8080` and `true` are as good as '8080' and 'true'. */
export function readScalarText(ctx: NormalizeContext, value: RawValue, path: string, what: string): string | undefined {
  switch (value.kind) {
    case "string":
      return value.value;
    case "number":
    case "quantity":
      return value.text;
    case "boolean":
      return String(value.value);
    default:
      ctx.report(path, `${what} must be a string, number or boolean, not ${describeRaw(value)}`, value.position);
      return undefined;
  }
}

/** `'a', 'b', 'c'`: the options a message offers. */
export function quoteAll(words: readonly string[]): string {
  return words.map((word) => `'${word}'`).join(", ");
}
