import { exampleBlock, exampleField, str } from "./format.js";
import type { NormalizeContext } from "./normalize-context.js";
import { describeRaw, type RawValue } from "./raw-value.js";
import { readScalarText } from "./value-readers.js";

/**
 * The program's command line and environment. Both are passed to the program as text, so any
 * scalar is taken as written (`8080`, `true`); their `%port%` placeholders count towards the
 * default number of ports (normalize-requirements.ts).
 */

/** A list of arguments, or a map of flags (`--name=value`, `--name` for true). */
export function readArgs(ctx: NormalizeContext, value: RawValue): string[] {
  if (value.kind === "null") return [];
  if (value.kind === "list") {
    const args: string[] = [];
    value.items.forEach((item, index) => {
      const path = `args.${index}`;
      ctx.positions.set(path, item.position);
      const text = readScalarText(ctx, item, path, "an argument");
      if (text !== undefined) args.push(text);
    });
    return args;
  }
  if (value.kind === "map") {
    // A map is a set of flags, in source order, as in the Borg lecture's `args = { port = '%port%' }`.
    const args: string[] = [];
    for (const entry of value.entries) {
      const path = `args.${args.length}`;
      ctx.positions.set(path, entry.value.position);
      ctx.labels.set(path, `args.${entry.key}`);
      if (entry.value.kind === "boolean" && entry.value.value) {
        args.push(`--${entry.key}`);
        continue;
      }
      const text = readScalarText(ctx, entry.value, path, "a flag value");
      if (text !== undefined) args.push(`--${entry.key}=${text}`);
    }
    return args;
  }
  ctx.report(
    "args",
    `expected a list of arguments or a map of flags, found ${describeRaw(value)}; e.g. ${exampleField(ctx.format, "args", { kind: "verbatim", text: ctx.format === "borg" ? "['--port=%port%']" : '["--port=%port%"]' })}`,
    value.position,
  );
  return [];
}

/** A map of variable names to values. */
export function readEnv(ctx: NormalizeContext, value: RawValue): Record<string, string> {
  // No prototype, so a variable called `constructor` is just a variable.
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  if (value.kind === "null") return env;
  if (value.kind !== "map") {
    ctx.report(
      "env",
      `expected a map of variable names to values, found ${describeRaw(value)}; e.g. ${exampleBlock(ctx.format, "env", [["GREETING", str("hi")]])}`,
      value.position,
    );
    return env;
  }
  for (const entry of value.entries) {
    const path = `env.${entry.key}`;
    ctx.positions.set(path, entry.value.position);
    if (entry.key === "__proto__") {
      ctx.report(path, "'__proto__' cannot be used as a variable name; rename it", entry.keyPosition);
      continue;
    }
    const text = readScalarText(ctx, entry.value, path, "an environment value");
    if (text !== undefined) env[entry.key] = text;
  }
  return env;
}
