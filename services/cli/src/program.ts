import { userInfo } from "node:os";
import { resolve } from "node:path";
import { Command } from "commander";
import { NAME_PATTERN } from "@corral/contracts";
import { GatewayClient } from "@corral/client";
import { gatewayUrl, type Location } from "./cell-location.js";

interface GlobalOptions {
  dir: string;
  gateway?: string;
  user: string;
}

function defaultUser(): string {
  const name = (process.env["CORRAL_USER"] ?? userInfo().username).toLowerCase().replace(/[^a-z0-9_-]/g, "-");
  return NAME_PATTERN.test(name) ? name : "default";
}

/** The `corral` command with the options every subcommand shares; subcommands are added to it. */
export function createProgram(): Command {
  return new Command()
    .name("corral")
    .description("Corral: a Borg-style cluster manager. Talks to a cell's gateway over HTTP.")
    .option("--dir <dir>", "the local cell's directory (ports, pids, logs)", ".corral")
    .option("--gateway <url>", "a gateway URL, instead of the local cell in --dir")
    .option("--user <name>", "the job owner", defaultUser())
    .showHelpAfterError();
}

export function localCellDir(program: Command): string {
  return resolve(program.opts<GlobalOptions>().dir);
}

function location(program: Command): Location {
  const options = program.opts<GlobalOptions>();
  return options.gateway === undefined ? { dir: options.dir } : { dir: options.dir, gateway: options.gateway };
}

export function gatewayClient(program: Command): GatewayClient {
  return new GatewayClient(gatewayUrl(location(program)), { user: program.opts<GlobalOptions>().user });
}

/** Every command's answer: JSON for scripts with --json, otherwise the text `human` makes. */
export function print(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}
