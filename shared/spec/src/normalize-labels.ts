import { exampleBlock, exampleField, str, type Literal } from "./format.js";
import type { NormalizeContext } from "./normalize-context.js";
import { describeRaw, type RawValue } from "./raw-value.js";

/**
 * The job's labels. Unlike args and env, which turn numbers and booleans into text, a label's
 * value must be written as a string (README § Labels), so the refusals here say how to quote it.
 * Whether keys and values follow the label rules is the schema's to say; here only how they are
 * written, and the shapes people reach for instead of a flat map.
 */

/** `labels = { tier = 'web' 'app.kubernetes.io/name' = 'web' }`. */
export function readLabels(ctx: NormalizeContext, value: RawValue): Record<string, string> {
  // No prototype, so a label called `constructor` is just a label.
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  const example = exampleBlock(ctx.format, "labels", [
    ["tier", str("web")],
    ["team", str("payments")],
  ]);
  if (value.kind !== "map") {
    const fix = value.kind === "list" ? `labels are a map of keys to values, not a list: ${labelsFromList(ctx, value.items) ?? example}` : `e.g. ${example}`;
    ctx.report("labels", `expected a map of label keys to values, found ${describeRaw(value)}; ${fix}`, value.position);
    return labels;
  }
  for (const entry of value.entries) {
    const path = `labels.${entry.key}`;
    ctx.positions.set(path, entry.value.position);
    ctx.keyPositions.set(path, entry.keyPosition);
    if (entry.key === "__proto__") {
      ctx.report(path, "'__proto__' cannot be a label key; a label key starts with a letter or digit", entry.keyPosition);
      continue;
    }
    if (entry.value.kind === "string") {
      labels[entry.key] = entry.value.value;
    } else {
      ctx.report(path, labelValueProblem(ctx, entry.key, entry.value), entry.value.position);
      // Kept, so the schema counts the labels as written; this one's problem is reported already.
      labels[entry.key] = "";
    }
  }
  return labels;
}

/** Why a label's value is refused: it is not written as a string. */
function labelValueProblem(ctx: NormalizeContext, key: string, value: RawValue): string {
  const found = `a label value is a ${ctx.format === "borg" ? "quoted " : ""}string, found ${describeRaw(value)}`;
  const written = value.kind === "number" || value.kind === "quantity" ? value.text : value.kind === "boolean" ? String(value.value) : undefined;
  if (written !== undefined) {
    return `${found}; quote it: ${exampleField(ctx.format, key, str(written))}`;
  }
  if (value.kind === "null") return `${found}; give it a value, e.g. ${exampleField(ctx.format, key, str("web"))}, or for an empty one ${exampleField(ctx.format, key, str(""))}`;
  if (value.kind === "map") {
    const [first] = value.entries;
    const flat = first === undefined || first.value.kind !== "string" ? `${key}/name` : `${key}/${first.key}`;
    const text = first?.value.kind === "string" ? first.value.value : "web";
    return `${found}; labels do not nest: write the whole key, e.g. ${exampleField(ctx.format, flat, str(text))}`;
  }
  return `${found}; a label has one value, e.g. ${exampleField(ctx.format, key, str("web"))}`;
}

/** `labels: [tier=web]` written as the map it means, when every item is `key=value` or `key:value`. */
function labelsFromList(ctx: NormalizeContext, items: readonly RawValue[]): string | undefined {
  const pairs: Array<[string, Literal]> = [];
  for (const item of items) {
    const match = item.kind === "string" ? /^\s*([^=:\s]+)\s*[=:]\s*(\S*)\s*$/.exec(item.value) : null;
    if (match === null) return undefined;
    pairs.push([match[1] ?? "", str(match[2] ?? "")]);
  }
  return pairs.length === 0 ? undefined : exampleBlock(ctx.format, "labels", pairs);
}
