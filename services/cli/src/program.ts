import { resolve } from "node:path";
import { Command } from "commander";
import { GatewayClient } from "@corral/client";
import { resolveTarget, type Target } from "./credentials.js";

interface GlobalOptions {
  dir: string;
  gateway?: string;
  context?: string;
  token?: string;
}

/** The `corral` command with the options every subcommand shares; subcommands are added to it. */
export function createProgram(): Command {
  return new Command()
    .name("corral")
    .description("Corral: a Borg-style cluster manager. Talks to a cell's gateway over HTTP.")
    .option("--dir <dir>", "the local cell's directory (ports, pids, logs)", ".corral")
    .option("--gateway <url>", "a gateway URL, instead of the local cell in --dir")
    .option("--context <name>", "a cell saved with 'corral config set-context', instead of the current one")
    .option("--token <token>", "the bearer token to act with (default: $CORRAL_TOKEN, else the one saved for the cell; a local cell's admin token)")
    .showHelpAfterError();
}

export function localCellDir(program: Command): string {
  return resolve(program.opts<GlobalOptions>().dir);
}

/** The gateway and token every command that talks to a cell uses (credentials.ts has the order). */
export function target(program: Command): Target {
  const { dir, gateway, context, token } = program.opts<GlobalOptions>();
  return resolveTarget({ dir, dirGiven: program.getOptionValueSource("dir") === "cli", ...(gateway === undefined ? {} : { gateway }), ...(context === undefined ? {} : { context }), ...(token === undefined ? {} : { token }) });
}

export function gatewayClient(program: Command): GatewayClient {
  const { gateway, token } = target(program);
  return new GatewayClient(gateway, { token });
}

/** Every command's answer: JSON for scripts with --json, otherwise the text `human` makes. */
export function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}
