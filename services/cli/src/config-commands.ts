import { resolve } from "node:path";
import type { Command } from "commander";
import { checkContextName, checkedContext, configPath, contextNamed, readConfig, writeConfig } from "./contexts.js";
import { readCaFile } from "./credentials.js";
import { table } from "./format.js";
import { print } from "./program.js";

/** `corral config …`: the cells this user works with, as kubectl's contexts, in a file of their own (mode 600). */
export function addConfigCommands(program: Command): void {
  const config = program.command("config").description(`the cells you work with and your token for each (kept in ${configPath()})`);
  config
    .command("set-context")
    .description("save (or change) a cell, given the global --gateway URL (required), --token TOKEN (yours there; corral user add prints one) and, for an HTTPS gateway with a CA of its own, --tls-ca FILE; the first one saved becomes current")
    .argument("<name>", "a name for it, e.g. prod")
    .action((name: string) => {
      checkContextName(name);
      // --gateway and --token are the program's own options, which commander takes wherever they stand.
      const { gateway, token, tlsCa } = program.opts<{ gateway?: string; token?: string; tlsCa?: string }>();
      if (gateway === undefined) throw new Error("set-context needs --gateway URL, e.g. corral config set-context prod --gateway http://10.0.0.5:8080 --token TOKEN");
      if (tlsCa !== undefined) readCaFile(tlsCa);
      const context = checkedContext({ gateway, ...(token === undefined ? {} : { token }), ...(tlsCa === undefined ? {} : { ca: resolve(tlsCa) }) });
      const current = readConfig();
      writeConfig({ ...current, currentContext: current.currentContext ?? name, contexts: { ...current.contexts, [name]: context } });
      process.stderr.write(`context ${name} saved${(current.currentContext ?? name) === name ? " (current)" : ""}\n`);
    });
  config
    .command("use-context")
    .description("make a saved cell the one commands talk to when there is no local cell")
    .argument("<name>", "a saved context")
    .action((name: string) => {
      const current = readConfig();
      contextNamed(current, name);
      writeConfig({ ...current, currentContext: name });
      process.stderr.write(`now using context ${name}\n`);
    });
  config
    .command("get-contexts")
    .description("list the saved cells (never their tokens)")
    .option("--json", "print JSON for scripts")
    .action((options: { json?: boolean }) => {
      const current = readConfig();
      const contexts = Object.entries(current.contexts).map(([name, context]) => ({ name, gateway: context.gateway, current: name === current.currentContext, hasToken: context.token !== undefined }));
      print({ contexts }, options.json === true, () => {
        const rows = table(["CURRENT", "NAME", "GATEWAY", "TOKEN"]);
        for (const context of contexts) rows.push([context.current ? "*" : "", context.name, context.gateway, context.hasToken ? "saved" : "none"]);
        return rows.toString();
      });
    });
  config
    .command("delete-context")
    .description("forget a saved cell and your token for it")
    .argument("<name>", "a saved context")
    .action((name: string) => {
      const current = readConfig();
      contextNamed(current, name);
      const { [name]: _gone, ...rest } = current.contexts;
      const { currentContext, ...others } = current;
      writeConfig({ ...others, contexts: rest, ...(currentContext === undefined || currentContext === name ? {} : { currentContext }) });
      process.stderr.write(`context ${name} deleted\n`);
    });
}
