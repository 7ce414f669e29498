import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";

/** A string flag turned into a value by `parse`; its error message becomes the flag's. */
export function parsedFlag<T>(parse: (text: string) => T) {
  return z.string().transform((text, ctx) => {
    try {
      return parse(text);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  });
}

/**
 * Parses a service's command-line flags and validates them; a bad flag prints what is
 * wrong with which flag and exits with status 2, before the service touches anything.
 */
export function loadFlags<S extends z.ZodType>(
  service: string,
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig["options"]>,
  schema: S,
): z.infer<S> {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    process.stderr.write(`${service}: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const camel = Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase()), value]),
  );
  const parsed = schema.safeParse(camel);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const flag = issue.path.map((p) => String(p).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).join(".");
      process.stderr.write(`${service}: --${flag}: ${issue.message}\n`);
    }
    process.exit(2);
  }
  return parsed.data as z.infer<S>;
}
