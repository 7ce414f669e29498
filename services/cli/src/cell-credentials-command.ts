import { resolve } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { cellNameSchema, NAME_PATTERN, type NatsGrant } from "@corral/contracts";
import { authorizeNatsClients, ensureLeaderKey, natsAuthOf, natsCredentialsFile, OPERATOR_CLIENT, type NatsClient } from "@corral/launcher";
import { table } from "./format.js";
import { cellList } from "./option-parsers.js";
import { print } from "./program.js";

interface CredentialsOptions {
  out: string;
  cell: string;
  masters: string[];
  schedulers: string[];
  gateways: string[];
  borglets: string[];
  submitters: string[];
  federates?: string[];
}

/** Names given comma-separated, each a valid process name, e.g. --borglets m1,m2. */
function names(flag: string) {
  return (text: string): string[] => {
    const list = text.split(",").map((name) => name.trim()).filter((name) => name !== "");
    const bad = list.find((name) => !NAME_PATTERN.test(name));
    if (bad !== undefined) throw new InvalidArgumentError(`${flag}: '${bad}' is not a name (lower-case letters, digits, '_' and '-')`);
    if (new Set(list).size !== list.length) throw new InvalidArgumentError(`${flag}: a name is given twice in ${text}`);
    return list;
  };
}

/**
 * `corral cell credentials`: what an operator needs to run a cell's services on machines of
 * their own, made as `cell up` makes them for a local cell. Run again with more names, it
 * adds them and keeps every key made before.
 */
export function addCellCredentialsCommand(cell: Command): void {
  cell
    .command("credentials")
    .description(
      "make a cell's NATS credentials (one NKey per service, machine and producer), the nats-server authorization config that lets in exactly those, and the masters' leader key; run again to add more",
    )
    .requiredOption("--out <dir>", "where to write them: <dir>/nats-credentials/<name>.nk (mode 600), <dir>/nats-auth.conf, <dir>/leader.key (mode 600) and leader.pub")
    .option("--cell <name>", "the cell's name", "local")
    .option("--masters <names>", "the master replicas' --name values", names("--masters"), ["master-0", "master-1", "master-2", "master-3", "master-4"])
    .option("--schedulers <names>", "the schedulers' --name values", names("--schedulers"), ["scheduler-0"])
    .option("--gateways <names>", "the gateways' names (each signs in as one)", names("--gateways"), ["gateway"])
    .option("--borglets <names>", "the machines' --name values (each may act only as itself)", names("--borglets"), [])
    .option("--submitters <users>", "users who may publish on the submit stream, each only under their own name", names("--submitters"), [])
    .option("--federates <cells>", "the cells the gateways federate (the cell itself first), when they do", cellList)
    .option("--json", "print JSON for scripts")
    .action((options: CredentialsOptions & { json?: boolean }) => {
      const cellName = cellNameSchema.safeParse(options.cell);
      if (!cellName.success) throw new InvalidArgumentError(`--cell '${options.cell}': ${cellName.error.issues[0]!.message}`);
      const cell = cellName.data;
      if (options.federates !== undefined && options.federates[0] !== cell) throw new InvalidArgumentError(`--federates must name the cell itself first: --federates ${[cell, ...options.federates.filter((c) => c !== cell)].join(",")}`);
      const grantOf = (grant: NatsGrant, name: string): NatsClient => ({ name, grant });
      const clients: NatsClient[] = [
        ...options.masters.map((name) => grantOf({ role: "master", cell }, name)),
        ...options.schedulers.map((name) => grantOf({ role: "scheduler", cell }, name)),
        ...options.gateways.map((name) => grantOf({ role: "gateway", cells: options.federates ?? [cell] }, name)),
        ...options.borglets.map((name) => grantOf({ role: "borglet", cell, node: name }, name)),
        ...options.submitters.map((user) => grantOf({ role: "submitter", cell, user }, `submit-${user}`)),
        grantOf({ role: "operator", cell }, OPERATOR_CLIENT),
      ];
      const taken = clients.map((client) => client.name).find((name, i, all) => all.indexOf(name) !== i);
      if (taken !== undefined) throw new InvalidArgumentError(`'${taken}' names two clients; every master, scheduler, gateway and machine needs a name of its own`);
      const out = resolve(options.out);
      const auth = natsAuthOf(out);
      authorizeNatsClients(auth, clients, "add");
      const leaderKey = ensureLeaderKey(out);
      const made = {
        authConfig: auth.config,
        leaderKey: leaderKey.privateKeyFile,
        leaderPublicKey: leaderKey.publicKeyFile,
        clients: clients.map((client) => ({ name: client.name, role: client.grant.role, credentials: natsCredentialsFile(auth, client.name) })),
      };
      print(made, options.json === true, () => {
        const rows = table(["CLIENT", "ROLE", "CREDENTIALS (--nats-credentials)"]);
        for (const client of made.clients) rows.push([client.name, client.role, client.credentials]);
        return [
          rows.toString(),
          `nats-servers: copy ${auth.config} beside each server's config, add  include "nats-auth.conf"  to it (nats-server reads includes relative to the including file), then reload the server (nats-server --signal reload)`,
          `masters: --leader-key-file ${leaderKey.privateKeyFile}; borglets: --leader-public-key-file ${leaderKey.publicKeyFile}`,
          "copy each credentials file only to the machine of the process it names, readable by that process's user alone",
        ].join("\n");
      });
    });
}
