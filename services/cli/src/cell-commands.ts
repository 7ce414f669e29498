import { InvalidArgumentError, type Command } from "commander";
import { isSameProcessAlive } from "@corral/kit";
import { readCellFile, startLocalCell, stopLocalCell, type CellFile } from "@corral/launcher";
import { cellList, positiveInteger } from "./option-parsers.js";
import { localCellDir, print } from "./program.js";

/** `corral cell up|status|down`: a local cell's processes, started in the background. */
export function addCellCommands(program: Command): void {
  const cell = program.command("cell").description("start, inspect and stop a local cell");

  cell
    .command("up")
    .description("start a local cell in the background: nats-server, redis-server, 5 masters, a scheduler, borglets, a gateway")
    .option("--borglets <n>", "how many borglets (machines)", positiveInteger("--borglets", 64), 3)
    .option("--masters <n>", "how many master replicas", positiveInteger("--masters", 9), 5)
    .option("--cell <name>", "the cell's name", "local")
    .option("--cells <names>", "a federation: these cells (e.g. a,b,c), each with its own redis-server, masters, scheduler and borglets, behind the gateways", cellList)
    .option("--gateways <n>", "how many gateways (with --cells they federate every cell)", positiveInteger("--gateways", 9), 1)
    .option("--nats-per-cell", "with --cells: each cell its own nats-server, joined into one super-cluster by NATS gateways (see deploy/nats/)")
    .action(async (options: { borglets: number; masters: number; cell: string; cells?: string[]; gateways: number; natsPerCell?: boolean }) => {
      if (options.natsPerCell === true && options.cells === undefined) throw new InvalidArgumentError("--nats-per-cell needs --cells: a single cell has one nats-server anyway");
      const dir = localCellDir(program);
      const started = await startLocalCell({
        dir,
        cell: options.cell,
        ...(options.cells === undefined ? {} : { cells: options.cells }),
        ...(options.natsPerCell === true ? { natsPerCell: true } : {}),
        gateways: Math.max(1, options.gateways),
        borglets: options.borglets,
        masters: Math.max(1, options.masters),
        onProgress: (message) => process.stderr.write(`  ${message}\n`),
      });
      const what = started.cells === undefined ? `cell '${started.cell}' is up` : `cells ${started.cells.map((c) => c.cell).join(", ")} are up behind ${(started.gateways ?? [started.gateway]).length} gateway(s)`;
      process.stderr.write(`${what}; logs in ${dir}/logs\n`);
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

function cellStatus(found: CellFile) {
  const processes = found.processes.map((p) => ({ role: p.role, name: p.name, pid: p.pid, alive: isSameProcessAlive(p), log: p.log }));
  return { cell: found.cell, ...(found.cells === undefined ? {} : { cells: found.cells, gateways: found.gateways }), dir: found.dir, gateway: found.gateway, ui: `${found.gateway}/ui`, ...(found.dns === undefined ? {} : { dns: found.dns }), ...(found.metrics === undefined ? {} : { metrics: found.metrics }), nats: found.nats, redis: found.redis, startedAt: found.startedAt, processes };
}

type CellStatus = ReturnType<typeof cellStatus>;

function cellStatusText(found: CellFile, processes: CellStatus["processes"]): string {
  return [
    found.cells === undefined
      ? `cell ${found.cell}  gateway ${found.gateway}${found.dns === undefined ? "" : `  dns ${found.dns}`}  nats ${found.nats}  redis ${found.redis}`
      : `cells ${found.cells.map((c) => `${c.cell} (redis ${c.redis})`).join(", ")}  gateways ${(found.gateways ?? []).join(" ")}  nats ${found.nats}`,
    ...processes.map((p) => `  ${p.name.padEnd(14)} pid ${String(p.pid).padEnd(8)} ${p.alive ? "running" : "gone"}`),
  ].join("\n");
}
