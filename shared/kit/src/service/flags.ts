import { parseArgs } from "node:util";
import { z } from "zod";

/**
 * One command-line flag of a service. Its name is the key it is declared under, in
 * camelCase (`leaseTtl`), given as `--lease-ttl`; it may also come from the environment as
 * `CORRAL_LEASE_TTL`, for unit files and containers. The command line wins over the
 * environment, and the environment over the default.
 */
export interface FlagDefinition<T = unknown> {
  /** one line for --help: what the flag sets, in the reader's words */
  readonly help: string;
  /** the value as it would be typed; none: the flag is optional, and `schema` sees undefined */
  readonly default?: string;
  /** turns the text into the value; its error messages are shown next to the flag */
  readonly schema: z.ZodType<T>;
  /** may be given several times; the schema sees a list, and the environment is not read */
  readonly multiple?: boolean;
  /** shown in --help instead of the default, when the default is computed here (a host name, a pid) */
  readonly defaultShown?: string;
}

export type FlagDefinitions = Readonly<Record<string, FlagDefinition>>;
export type FlagValues<D extends FlagDefinitions> = { [K in keyof D]: D[K] extends FlagDefinition<infer T> ? T : never };

export interface ServiceDescription {
  /** the program's name, as in `corral-master` */
  readonly program: string;
  /** one sentence: what this service is */
  readonly summary: string;
  readonly flags: FlagDefinitions;
}

/** A flag's own builder, so each definition reads as one line and keeps its value's type. */
export function flag<T>(help: string, schema: z.ZodType<T>, options: { default?: string; multiple?: boolean; defaultShown?: string } = {}): FlagDefinition<T> {
  return { help, schema, ...options };
}

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

export function kebabOf(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `CORRAL_LEASE_TTL` for `leaseTtl`: one name per flag, so a unit's environment file reads like its --help. */
export function environmentVariableOf(name: string): string {
  return `CORRAL_${kebabOf(name)}`.replace(/-/g, "_").toUpperCase();
}

/** The text of `--help`: usage, the summary, then every flag with its default and variable. */
export function helpText(description: ServiceDescription): string {
  const rows = Object.entries(description.flags).map(([name, definition]) => {
    const left = `  --${kebabOf(name)} <value>`;
    const shown = definition.defaultShown ?? definition.default;
    const details = [
      shown === undefined || shown === "" ? undefined : `default: ${shown}`,
      definition.multiple === true ? "may be repeated" : `env: ${environmentVariableOf(name)}`,
    ].filter((part) => part !== undefined);
    return { left, right: `${definition.help} (${details.join("; ")})` };
  });
  const width = Math.max(...rows.map((row) => row.left.length), "  --help".length) + 2;
  return [
    `Usage: ${description.program} [flags]`,
    "",
    description.summary,
    "",
    "Flags (a flag on the command line wins over its environment variable, which wins over the default):",
    ...rows.map((row) => row.left.padEnd(width) + row.right),
    "  --help".padEnd(width) + "print this and exit",
    "",
  ].join("\n");
}

export class FlagError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("; "));
    this.name = "FlagError";
  }
}

/**
 * The flags' values from `argv` and `env`, validated; `undefined` when `--help` was asked for.
 * Throws a FlagError naming every bad flag, and where its value came from.
 */
export function parseFlags<D extends FlagDefinitions>(
  description: ServiceDescription & { flags: D },
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): FlagValues<D> | undefined {
  const options = Object.fromEntries(
    Object.entries(description.flags).map(([name, definition]) => [kebabOf(name), { type: "string" as const, multiple: definition.multiple === true }]),
  );
  let given: Record<string, unknown>;
  try {
    given = parseArgs({ args: [...argv], options: { ...options, help: { type: "boolean" } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new FlagError([`${(error as Error).message}; see --help`]);
  }
  if (given["help"] === true) return undefined;
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, definition] of Object.entries(description.flags)) {
    const variable = environmentVariableOf(name);
    const fromArgs = given[kebabOf(name)];
    const fromEnv = definition.multiple === true ? undefined : env[variable];
    const source = fromArgs !== undefined ? `--${kebabOf(name)}` : fromEnv !== undefined ? `${variable} (for --${kebabOf(name)})` : `the default of --${kebabOf(name)}`;
    const text = fromArgs ?? fromEnv ?? (definition.multiple === true ? (definition.default === undefined ? [] : [definition.default]) : definition.default);
    const parsed = definition.schema.safeParse(text);
    if (parsed.success) values[name] = parsed.data;
    else for (const issue of parsed.error.issues) problems.push(`${source}: ${issue.message}`);
  }
  if (problems.length > 0) throw new FlagError(problems);
  return values as FlagValues<D>;
}

/**
 * A service's flags from its command line and environment. `--help` prints the help and
 * exits 0; a bad flag prints what is wrong with which flag and exits 2, before the service
 * touches anything.
 */
export function loadFlags<D extends FlagDefinitions>(description: ServiceDescription & { flags: D }, argv = process.argv.slice(2), env = process.env): FlagValues<D> {
  try {
    const values = parseFlags(description, argv, env);
    if (values !== undefined) return values;
    process.stdout.write(helpText(description));
    process.exit(0);
  } catch (error) {
    if (!(error instanceof FlagError)) throw error;
    for (const problem of error.problems) process.stderr.write(`${description.program}: ${problem}\n`);
    process.exit(2);
  }
}
