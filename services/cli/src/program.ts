import { resolve } from "node:path";
import { Command } from "commander";
import { GatewayClient } from "@corral/client";
import { readCaFile, resolveTarget, type Target } from "./credentials.js";

interface GlobalOptions {
  dir: string;
  gateway?: string;
  context?: string;
  token?: string;
  tlsCa?: string;
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
    .option("--tls-ca <file>", "the CA certificate an HTTPS gateway's certificate is checked against (default: the one saved with the cell; a local cell's own CA)")
    .showHelpAfterError();
}

export function localCellDir(program: Command): string {
  return resolve(program.opts<GlobalOptions>().dir);
}

/** The gateway and token every command that talks to a cell uses (credentials.ts has the order). */
export function target(program: Command): Target {
  const { dir, gateway, context, token, tlsCa } = program.opts<GlobalOptions>();
  return resolveTarget({
    dir,
    dirGiven: program.getOptionValueSource("dir") === "cli",
    ...(gateway === undefined ? {} : { gateway }),
    ...(context === undefined ? {} : { context }),
    ...(token === undefined ? {} : { token }),
    ...(tlsCa === undefined ? {} : { tlsCa }),
  });
}

export function gatewayClient(program: Command): GatewayClient {
  const { gateway, token, ca } = target(program);
  return new GatewayClient(gateway, { token, ...(ca === undefined ? {} : { ca: readCaFile(ca) }) });
}

/** Every command's answer: JSON for scripts with --json, otherwise the text `human` makes. */
export function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}
