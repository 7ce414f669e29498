import { userInfo } from "node:os";
import { InvalidArgumentError, type Command } from "commander";
import { userNameSchema } from "@corral/contracts";
import { isSameProcessAlive } from "@corral/kit";
import { MAX_HOSTS, parseHostCount, readCellFile, startLocalCell, stopLocalCell, type CellFile } from "@corral/launcher";
import { cellList, positiveInteger, userNameArgument } from "./option-parsers.js";
import { localCellDir, print } from "./program.js";
import { addCellCredentialsCommand } from "./cell-credentials-command.js";

/** `corral cell up|status|down`: a local cell's processes, started in the background. */
export function addCellCommands(program: Command): void {
  const cell = program.command("cell").description("start, inspect and stop a local cell; make a cell's credentials");
  addCellCredentialsCommand(cell);

  cell
    .command("up")
    .description("start a local cell in the background: nats-server, redis-server, 5 masters, a scheduler, borglets, a gateway")
    .option("--borglets <n>", "how many borglets (machines)", positiveInteger("--borglets", 64), 3)
    .option("--masters <n>", "how many master replicas", positiveInteger("--masters", 9), 5)
    .option("--cell <name>", "the cell's name", "local")
    .option("--admin <name>", "the cell's first admin: its token is made in the cell's directory (admin.token, mode 600), and the CLI uses it there", userNameArgument("--admin"), defaultAdmin())
    .option("--cells <names>", "a federation: these cells (e.g. a,b,c), each with its own redis-server, masters, scheduler and borglets, behind the gateways", cellList)
    .option("--gateways <n>", "how many gateways (with --cells they federate every cell)", positiveInteger("--gateways", 9), 1)
    .option("--nats-per-cell", "with --cells: each cell its own nats-server, joined into one super-cluster by NATS gateways (see deploy/nats/)")
    .option("--tls", "NATS and the gateway speak TLS, with a CA of the cell's own (DIR/tls/ca.crt, which the CLI trusts for this cell); default with --hosts, whose traffic crosses hosts")
    .option("--no-tls", "with --hosts: plain NATS and HTTP")
    .option(
      "--hosts <n>",
      `a multi-host cell (root only): n network namespaces on one bridge as hosts (1 to ${MAX_HOSTS}), one borglet each; with 3 or more, a NATS cluster and Redis with Sentinels over them`,
      hostCount,
    )
    .action(async (options: { borglets: number; masters: number; cell: string; admin: string; cells?: string[]; gateways: number; natsPerCell?: boolean; hosts?: number; tls?: boolean }, command: Command) => {
      if (options.natsPerCell === true && options.cells === undefined) throw new InvalidArgumentError("--nats-per-cell needs --cells: a single cell has one nats-server anyway");
      if (options.hosts !== undefined) {
        const clash = ["borglets", "cells", "natsPerCell", "gateways"].find((name) => command.getOptionValueSource(name) === "cli");
        if (clash !== undefined) throw new InvalidArgumentError(`--${clash.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot be combined with --hosts: a multi-host cell runs one borglet per host and one gateway, on host 0`);
      }
      const dir = localCellDir(program);
      const started = await startLocalCell({
        dir,
        cell: options.cell,
        admin: options.admin,
        ...(options.cells === undefined ? {} : { cells: options.cells }),
        ...(options.natsPerCell === true ? { natsPerCell: true } : {}),
        ...(options.hosts === undefined ? { gateways: Math.max(1, options.gateways), borglets: options.borglets } : { hosts: options.hosts }),
        masters: Math.max(1, options.masters),
        ...(command.getOptionValueSource("tls") === "cli" ? { tls: options.tls === true } : {}),
        onProgress: (message) => process.stderr.write(`  ${message}\n`),
      });
      const what = started.cells === undefined ? `cell '${started.cell}' is up` : `cells ${started.cells.map((c) => c.cell).join(", ")} are up behind ${(started.gateways ?? [started.gateway]).length} gateway(s)`;
      process.stderr.write(`${what}; logs in ${dir}/logs${started.tls === undefined ? "" : `; TLS with the cell's own CA, ${started.tls.ca} (the CLI trusts it here; elsewhere give --tls-ca)`}\n`);
      process.stdout.write(`${(started.gateways ?? [started.gateway]).join("\n")}\n`);
    });

  cell
    .command("status")
    .description("the local cell's gateway, servers and processes")
    .option("--json", "print JSON for scripts")
    .action((options: { json?: boolean }) => {
      const dir = localCellDir(program);
      const found = readCellFile(dir);
      if (found === undefined) throw new Error(`no local cell in ${dir}; start one with: corral cell up`);
      const status = cellStatus(found);
      print(status, options.json === true, () => cellStatusText(found, status.processes));
    });

  cell
    .command("down")
    .description("stop exactly the processes 'cell up' started, and the tasks its borglets ran")
    .action(async () => {
      const dir = localCellDir(program);
      const stopped = await stopLocalCell(dir);
      if (stopped === undefined) throw new Error(`no local cell in ${dir}`);
      const what = stopped.cells === undefined ? `cell '${stopped.cell}'` : `cells ${stopped.cells.map((c) => c.cell).join(", ")}`;
      process.stderr.write(`${what} stopped (${stopped.processes.length} processes)\n`);
    });
}

/** The local cell's admin is whoever starts it, by default: their login name, made a valid user name. */
function defaultAdmin(): string {
  const name = userInfo().username.toLowerCase().replace(/[^a-z0-9_-]/g, "-");
  return userNameSchema.safeParse(name).success ? name : "admin";
}

/** --hosts, checked where the launcher checks every host count. */
function hostCount(value: string): number {
  try {
    return parseHostCount(value, "--hosts");
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** A multi-host cell's hosts, each with the processes that run on it. */
function hostsOf(found: CellFile) {
  return (found.network?.hosts ?? []).map((host) => ({
    name: host.name,
    netns: host.netns,
    address: host.address,
    processes: found.processes.filter((p) => p.host === host.name).map((p) => ({ name: p.name, pid: p.pid })),
  }));
}

function cellStatus(found: CellFile) {
  const processes = found.processes.map((p) => ({ role: p.role, name: p.name, pid: p.pid, alive: isSameProcessAlive(p), log: p.log, ...(p.host === undefined ? {} : { host: p.host }) }));
  return { cell: found.cell, ...(found.network === undefined ? {} : { hosts: hostsOf(found) }), ...(found.cells === undefined ? {} : { cells: found.cells, gateways: found.gateways }), dir: found.dir, gateway: found.gateway, ui: `${found.gateway}/ui`, ...(found.dns === undefined ? {} : { dns: found.dns }), ...(found.metrics === undefined ? {} : { metrics: found.metrics }), nats: found.nats, redis: found.redis, startedAt: found.startedAt, processes };
}

type CellStatus = ReturnType<typeof cellStatus>;

function cellStatusText(found: CellFile, processes: CellStatus["processes"]): string {
  return [
    found.cells === undefined
      ? `cell ${found.cell}  gateway ${found.gateway}${found.dns === undefined ? "" : `  dns ${found.dns}`}  nats ${found.nats}  redis ${found.redis}`
      : `cells ${found.cells.map((c) => `${c.cell} (redis ${c.redis})`).join(", ")}  gateways ${(found.gateways ?? []).join(" ")}  nats ${found.nats}`,
    ...processes.map((p) => `  ${p.name.padEnd(16)} pid ${String(p.pid).padEnd(8)} ${(p.alive ? "running" : "gone").padEnd(8)}${"host" in p ? ` on ${p.host}` : ""}`),
    ...hostsOf(found).map((host) => `  ${host.name.padEnd(16)} ${host.address.padEnd(15)} netns ${host.netns}`),
  ].join("\n");
}
