import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";
import { NAME_PATTERN } from "@corral/contracts";

/**
 * The user's cells, as kubectl's contexts: each a gateway URL and the token to show it,
 * one of them current. The file holds tokens, so it is the user's alone (mode 600).
 */
const contextSchema = z.strictObject({
  gateway: z.url({ protocol: /^https?$/, error: "a gateway URL, e.g. http://10.0.0.5:8080" }),
  token: z.string().min(1).optional(),
  /** the CA certificate file its HTTPS certificate is checked against */
  ca: z.string().min(1).optional(),
});
const configSchema = z.strictObject({
  currentContext: z.string().optional(),
  contexts: z.record(z.string().regex(NAME_PATTERN), contextSchema).default({}),
});
export type CliConfig = z.infer<typeof configSchema>;
export type CellContext = z.infer<typeof contextSchema>;

/** `$CORRAL_CONFIG`, else `$XDG_CONFIG_HOME/corral/config.json`, else `~/.config/corral/config.json`. */
export function configPath(): string {
  const explicit = process.env["CORRAL_CONFIG"];
  if (explicit !== undefined && explicit !== "") return explicit;
  return join(process.env["XDG_CONFIG_HOME"] || join(homedir(), ".config"), "corral", "config.json");
}

export function readConfig(path = configPath()): CliConfig {
  if (!existsSync(path)) return { contexts: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path} is not JSON (${(error as Error).message}); fix or remove it`);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join(".") || "(top)"}: ${issue.message}; fix it, or remove it and set your contexts again`);
  }
  return parsed.data;
}

/** Written whole, renamed into place, and the user's alone. */
export function writeConfig(config: CliConfig, path = configPath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(partial, 0o600);
  renameSync(partial, path);
}

/** A context by name, or the error that lists the ones there are. */
export function contextNamed(config: CliConfig, name: string): CellContext {
  const found = config.contexts[name];
  if (found === undefined) {
    const known = Object.keys(config.contexts);
    throw new Error(`no context '${name}' in ${configPath()}; ${known.length === 0 ? "add one with: corral config set-context NAME --gateway URL --token TOKEN" : `there are: ${known.join(", ")}`}`);
  }
  return found;
}

export function checkContextName(name: string): string {
  if (!NAME_PATTERN.test(name)) throw new Error(`context name '${name}': lowercase letters, digits, '_' or '-', starting with a letter`);
  return name;
}

export function checkedContext(value: unknown): CellContext {
  const parsed = contextSchema.safeParse(value);
  if (!parsed.success) throw new Error(`--${String(parsed.error.issues[0]!.path[0] ?? "gateway")}: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}
