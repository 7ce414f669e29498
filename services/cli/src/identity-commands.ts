import type { Command } from "commander";
import { ROLES, type Role } from "@corral/contracts";
import { durationText, positiveInteger, roleOption, userNameArgument } from "./option-parsers.js";
import { table } from "./format.js";
import { gatewayClient, print, target } from "./program.js";

/** `corral auth token|whoami`, `corral user add|ls|revoke` and `corral audit`: who the CLI acts as, the cell's users, and who did what. */
export function addIdentityCommands(program: Command): void {
  const auth = program.command("auth").description("the token the CLI acts with");
  auth
    .command("token")
    .description("print the bearer token the CLI would send (for scripts: curl -H \"Authorization: Bearer $(corral auth token)\")")
    .action(() => {
      const { token, from } = target(program);
      if (token === undefined) throw new Error(`no token for ${from}: pass --token, set CORRAL_TOKEN, or save one with corral config set-context`);
      process.stdout.write(`${token}\n`);
    });
  auth
    .command("whoami")
    .description("who the gateway takes the token for, and their role")
    .option("--json", "print JSON for scripts")
    .action(async (options: { json?: boolean }) => {
      const identity = await gatewayClient(program).whoami();
      print(identity, options.json === true, () => `${identity.name} (${identity.role})`);
    });

  const user = program.command("user").description("the cell's users and their tokens (admins only)");
  user
    .command("add")
    .description("add a user and print their token, which is shown this once")
    .argument("<name>", "the user's name: it owns the jobs they submit", userNameArgument("user name"))
    .requiredOption("--role <role>", `${ROLES.join(", ")}: admins do anything, users act on their own jobs, viewers only read`, roleOption)
    .option("--json", "print JSON for scripts")
    .action(async (name: string, options: { role: Role; json?: boolean }) => {
      const added = await gatewayClient(program).addUser(name, options.role);
      print(added, options.json === true, () => `user ${added.user.name} (${added.user.role}) added; their token, shown this once:\n${added.token}`);
    });
  user
    .command("ls")
    .description("list the cell's users (never their tokens)")
    .option("--json", "print JSON for scripts")
    .action(async (options: { json?: boolean }) => {
      const { users } = await gatewayClient(program).users();
      print({ users }, options.json === true, () => {
        const rows = table(["NAME", "ROLE", "CREATED", "BY"]);
        for (const entry of users) rows.push([entry.name, entry.role, entry.createdAt === "" ? "(token file)" : entry.createdAt, entry.createdBy]);
        return rows.toString();
      });
    });
  user
    .command("revoke")
    .description("take a user's token back: every gateway of the cell refuses it from now on")
    .argument("<name>", "the user", userNameArgument("user name"))
    .option("--json", "print JSON for scripts")
    .action(async (name: string, options: { json?: boolean }) => {
      const revoked = await gatewayClient(program).revokeUser(name);
      print(revoked, options.json === true, () => `user ${revoked.user.name} revoked`);
    });

  program
    .command("audit")
    .description("(admins) who asked the cell to change what, from where, and how it ended, oldest first")
    .option("--since <duration>", "how far back, e.g. 15m, 1h, 7d", durationText, "1h")
    .option("--user <name>", "one user's requests only", userNameArgument("--user"))
    .option("--limit <n>", "at most this many records", positiveInteger("--limit", 10_000), 1000)
    .option("--json", "print JSON for scripts")
    .action(async (options: { since: string; user?: string; limit: number; json?: boolean }) => {
      const answer = await gatewayClient(program).audit({ since: options.since, limit: options.limit, ...(options.user === undefined ? {} : { user: options.user }) });
      print(answer, options.json === true, () => {
        const rows = table(["TIME", "USER", "ACTION", "TARGET", "FROM", "OUTCOME"]);
        for (const record of answer.records) rows.push([record.at, record.user ?? "(unknown)", record.action, record.target ?? "", record.address, `${record.outcome} ${record.status}${record.code === undefined ? "" : ` ${record.code}`}`]);
        return `${rows.toString()}${answer.more ? `\n… more than ${options.limit}: narrow --since or --user, or raise --limit` : ""}`;
      });
    });
}
