import { readFileSync, writeFileSync } from "node:fs";
import { InvalidArgumentError, type Command } from "commander";
import { NAME_PATTERN } from "@corral/contracts";
import { CheckpointStore, connectRedisOnce, decodeCheckpoint, encodeCheckpoint, readSecretFile, type Redis } from "@corral/kit";
import { readCellFile, redisPasswordOf } from "@corral/launcher";
import { POLICIES, syntheticMachines, type MachineOffer } from "@corral/scheduling";
import { READABLE_RECORDS_VERSIONS, RECORDS_VERSION } from "@corral/state";
import { checkpointText, inspectCheckpoint } from "./checkpoint-report.js";
import { positiveInteger } from "./option-parsers.js";
import { gatewayClient, localCellDir, print } from "./program.js";
import { simulate, simulationText } from "./simulate.js";

interface CellStoreOptions {
  redis?: string;
  cell?: string;
  redisPasswordFile?: string;
  redisTlsCa?: string;
}

/** `corral checkpoint inspect|save` and `corral simulate`: the cell's stored state in Redis, read directly. */
export function addCheckpointCommands(program: Command): void {
  const checkpoint = program.command("checkpoint").description("the cell's stored state in Redis");

  checkpoint
    .command("inspect")
    .description("what the latest checkpoint holds, and what a recovering master would replay after it")
    .option("--redis <url>", "the cell's Redis, instead of the local cell's in --dir")
    .option("--cell <name>", "the cell's name, instead of the local cell's")
    .option("--redis-password-file <file>", "with --redis: a file (mode 600) with its password (a local cell's is found in --dir)")
    .option("--redis-tls-ca <file>", "with --redis: the CA its TLS certificate is checked against (a local cell's is found in --dir)")
    .option("--json", "print JSON for scripts")
    .action(async (options: CellStoreOptions & { json?: boolean }) => {
      const report = await withCellStore(program, options, (_store, cellName, redis) => inspectCheckpoint(redis, cellName));
      print(report, options.json === true, () => checkpointText(report));
    });

  checkpoint
    .command("save")
    .description("write the cell's state now (checkpoint plus log) to a file, for corral simulate")
    .argument("<file>", "where to write it")
    .option("--redis <url>", "the cell's Redis, instead of the local cell's in --dir")
    .option("--cell <name>", "the cell's name, instead of the local cell's")
    .option("--redis-password-file <file>", "with --redis: a file (mode 600) with its password (a local cell's is found in --dir)")
    .option("--redis-tls-ca <file>", "with --redis: the CA its TLS certificate is checked against (a local cell's is found in --dir)")
    .action(async (file: string, options: CellStoreOptions) => {
      const { header, records } = await withCellStore(program, options, (store) => store.current());
      writeFileSync(file, encodeCheckpoint(header, records));
      process.stderr.write(`saved ${records.size} records of cell ${header.cell} at ${header.position} to ${file}\n`);
    });

  program
    .command("simulate")
    .description("run the scheduler offline on a checkpoint (Borg's Fauxmaster): how each policy would place the pending work")
    .requiredOption("--checkpoint <source>", "a file from 'corral checkpoint save', or 'live' for the cell's state now")
    .option("--machines <n>", "simulate on N synthetic machines instead of the local cell's own", positiveInteger("--machines", 1_000_000))
    .option("--seed <n>", "the synthetic machines' seed", positiveInteger("--seed", 2 ** 31), 1)
    .option("--policy <policy>", `one of ${POLICIES.join(", ")}, or all`, "all")
    .option("--redis <url>", "with --checkpoint live: the cell's Redis")
    .option("--cell <name>", "with --checkpoint live: the cell's name")
    .option("--redis-password-file <file>", "with --redis: a file (mode 600) with its password (a local cell's is found in --dir)")
    .option("--redis-tls-ca <file>", "with --redis: the CA its TLS certificate is checked against (a local cell's is found in --dir)")
    .option("--json", "print JSON for scripts")
    .action(async (options: CellStoreOptions & { checkpoint: string; machines?: number; seed: number; policy: string; json?: boolean }) => {
      const policies = options.policy === "all" ? [...POLICIES] : POLICIES.filter((policy) => policy === options.policy);
      if (policies.length === 0) throw new InvalidArgumentError(`--policy must be one of ${POLICIES.join(", ")}, or all`);
      const records =
        options.checkpoint === "live"
          ? (await withCellStore(program, options, (store) => store.current())).records
          : decodeCheckpoint(readFileSync(options.checkpoint), `the file ${options.checkpoint}`).records;
      const machines = options.machines !== undefined ? syntheticMachines(options.machines, options.seed) : await cellMachines(program);
      const result = simulate(records, machines, policies);
      print(result, options.json === true, () => simulationText(result));
    });
}

/** The cell's Redis, its password (and CA, when it speaks TLS) and the cell's name: from --redis, --redis-password-file, --redis-tls-ca and --cell, or from the local cell in --dir. */
function cellStore(program: Command, options: CellStoreOptions): { url: string; cell: string; password: string | undefined; tlsCa: string | undefined } {
  const dir = localCellDir(program);
  const local = options.redis === undefined || options.cell === undefined ? readCellFile(dir) : undefined;
  const url = options.redis ?? local?.redis;
  const cellName = options.cell ?? local?.cell;
  if (url === undefined || cellName === undefined) throw new Error(`no local cell in ${dir}: give --redis URL and --cell NAME`);
  if (!NAME_PATTERN.test(cellName)) throw new InvalidArgumentError(`--cell must match ${NAME_PATTERN.source}`);
  const password = options.redisPasswordFile !== undefined ? readSecretFile(options.redisPasswordFile, "--redis-password-file") : options.redis === undefined && local !== undefined ? redisPasswordOf(local) : undefined;
  const tlsCa = options.redisTlsCa ?? (options.redis === undefined ? local?.tls?.ca : undefined);
  return { url, cell: cellName, password, tlsCa };
}

async function withCellStore<T>(program: Command, options: CellStoreOptions, work: (store: CheckpointStore, cell: string, redis: Redis) => Promise<T>): Promise<T> {
  const { url, cell: cellName, password, tlsCa } = cellStore(program, options);
  const redis = await connectRedisOnce(url, { password, tlsCa });
  try {
    return await work(new CheckpointStore(redis, cellName, RECORDS_VERSION, READABLE_RECORDS_VERSIONS), cellName, redis);
  } finally {
    redis.disconnect();
  }
}

/** The cell's machines that can take work, all free: the simulation puts the checkpoint's placed tasks back on them itself. */
async function cellMachines(program: Command): Promise<MachineOffer[]> {
  return (await gatewayClient(program).nodes()).nodes
    .filter((node) => node.state === "up" && node.capacity.cpu > 0)
    .map((node) => ({ name: node.name, capacity: node.capacity, free: { ...node.capacity }, attributes: node.attributes, portRange: node.portRange, usedPorts: [] }));
}
