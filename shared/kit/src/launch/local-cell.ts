import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { CorralError } from "@corral/contracts";
import { freePort, freePortRange } from "./ports.js";
import { isSameProcessAlive, signalGroup, startDetached, tcpAnswers, waitUntil, type StartedProcess } from "./processes.js";
import { startNatsServer, startRedisServer, type RedisDurability } from "./servers.js";
import { requireExecutable } from "./executables.js";
import { sleep } from "../nats/messaging.js";

export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const TSX_LOADER = import.meta.resolve("tsx");

export type ServiceName = "master" | "scheduler" | "borglet" | "gateway";

export function serviceEntry(service: ServiceName): string {
  return join(REPO_ROOT, "services", service, "src", "main.ts");
}

const startedProcessSchema = z.object({
  role: z.string(),
  name: z.string(),
  pid: z.number().int(),
  startTime: z.number(),
  log: z.string(),
  command: z.string(),
  args: z.array(z.string()),
  cwd: z.string().optional(),
});

const cellFileSchema = z.object({
  cell: z.string(),
  dir: z.string(),
  gateway: z.string(),
  nats: z.string(),
  redis: z.string(),
  startedAt: z.string(),
  processes: z.array(startedProcessSchema),
});
export type CellFile = z.infer<typeof cellFileSchema>;

export interface CellOptions {
  dir: string;
  cell?: string;
  borglets?: number;
  masters?: number;
  schedulers?: number;
  /** a machine silent this long is marked down */
  downAfterMs?: number;
  leaseTtlMs?: number;
  heartbeatMs?: number;
  portsPerBorglet?: number;
  redisDurability?: RedisDurability;
  /** instead of real borglets: this many hollow borglet processes, each simulating `machinesEach` machines */
  hollow?: { processes: number; machinesEach: number };
  /** resources each borglet announces; default: the host's */
  borgletCapacity?: { cpu?: number; ram?: string; disk?: string };
  /** progress lines for people */
  onProgress?: (message: string) => void;
}

export function cellFilePath(dir: string): string {
  return join(dir, "cell.json");
}

/** Records the cell's processes, so `cell down` (or a cleanup after a crash) finds every one. */
export function writeCellFile(cell: CellFile): void {
  writeFileSync(cellFilePath(cell.dir), JSON.stringify(cell, null, 2) + "\n");
}

export function readCellFile(dir: string): CellFile | undefined {
  const path = cellFilePath(dir);
  if (!existsSync(path)) return undefined;
  const parsed = cellFileSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) throw new CorralError("bad_request", `${path} is not a cell file written by corral: ${parsed.error.message}`);
  return parsed.data;
}

/** Starts one service process of a local cell, run from source through tsx. */
export function startService(
  dir: string,
  service: ServiceName,
  name: string,
  args: readonly string[],
): StartedProcess {
  mkdirSync(join(dir, "logs"), { recursive: true });
  // gc() is exposed so memory per task and per machine can be measured without garbage in it.
  const nodeFlags = service === "master" ? ["--expose-gc", "--max-old-space-size=8192"] : ["--expose-gc", "--max-old-space-size=4096"];
  // CORRAL_PROFILE_DIR: every service writes a V8 cpu profile there when it exits, for finding hot paths.
  const profileDir = process.env["CORRAL_PROFILE_DIR"];
  if (profileDir !== undefined && profileDir !== "") nodeFlags.push("--cpu-prof", `--cpu-prof-dir=${join(profileDir, name)}`);
  return startDetached(service, name, process.execPath, [...nodeFlags, "--import", TSX_LOADER, serviceEntry(service), ...args], {
    log: join(dir, "logs", `${name}.log`),
    cwd: REPO_ROOT,
  });
}

export function borgletArgs(
  cell: CellFile | { cell: string; nats: string; dir: string },
  name: string,
  ports: readonly [number, number],
  options: Pick<CellOptions, "heartbeatMs" | "borgletCapacity"> = {},
): string[] {
  const args = [
    "--cell", cell.cell,
    "--nats", cell.nats,
    "--name", name,
    "--data-dir", join(cell.dir, "borglets", name),
    "--ports", `${ports[0]}-${ports[1]}`,
    "--binary-path", join(REPO_ROOT, "deploy", "examples", "bin"),
    "--heartbeat", `${options.heartbeatMs ?? 1000}ms`,
  ];
  const capacity = options.borgletCapacity ?? {};
  if (capacity.cpu !== undefined) args.push("--cpu", String(capacity.cpu));
  if (capacity.ram !== undefined) args.push("--ram", capacity.ram);
  if (capacity.disk !== undefined) args.push("--disk", capacity.disk);
  return args;
}

/** Hollow borglet number `index` of a cell, simulating `machines` machines named hollow-<index>-<n>. */
export function startHollowBorglet(
  cell: { cell: string; nats: string; dir: string },
  index: number,
  machines: number,
  options: Pick<CellOptions, "heartbeatMs"> = {},
): StartedProcess {
  const name = `hollow-${index}`;
  // Hollow tasks bind nothing, so any port range will do.
  const args = [...borgletArgs(cell, name, [20000, 29999], options), "--hollow", String(machines), "--seed", String(index + 1)];
  return startService(cell.dir, "borglet", name, args);
}

export function masterArgs(cell: { cell: string; nats: string; redis: string }, name: string, options: Pick<CellOptions, "downAfterMs" | "leaseTtlMs">): string[] {
  return [
    "--cell", cell.cell,
    "--nats", cell.nats,
    "--redis", cell.redis,
    "--name", name,
    "--down-after", `${options.downAfterMs ?? 5000}ms`,
    "--lease-ttl", `${options.leaseTtlMs ?? 3000}ms`,
  ];
}

/**
 * Starts a whole local cell in the background: nats-server and redis-server on free ports
 * with data under `dir`, the masters, schedulers, borglets and a gateway; returns once the
 * gateway answers and every borglet is registered.
 */
export async function startLocalCell(options: CellOptions): Promise<CellFile> {
  const dir = resolve(options.dir);
  const cellName = options.cell ?? "local";
  const progress = options.onProgress ?? (() => {});
  const running = readCellFile(dir);
  if (running !== undefined && running.processes.some(isSameProcessAlive)) {
    throw new CorralError("conflict", `a cell is already running in ${dir} (gateway ${running.gateway}); stop it with: corral cell down --dir ${dir}`);
  }
  requireExecutable("nats-server");
  requireExecutable("redis-server");
  mkdirSync(dir, { recursive: true });

  const processes: StartedProcess[] = [];
  const record = writeCellFile;
  const [natsPort, redisPort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
  const cell: CellFile = {
    cell: cellName,
    dir,
    gateway: `http://127.0.0.1:${gatewayPort}`,
    nats: `nats://127.0.0.1:${natsPort}`,
    redis: `redis://127.0.0.1:${redisPort}`,
    startedAt: new Date().toISOString(),
    processes,
  };
  try {
    progress(`nats-server on port ${natsPort}`);
    processes.push(await startNatsServer({ dir: join(dir, "nats"), port: natsPort }));
    record(cell);
    progress(`redis-server on port ${redisPort}`);
    processes.push(await startRedisServer({ dir: join(dir, "redis"), port: redisPort, durability: options.redisDurability ?? "everysec" }));
    record(cell);

    const masters = options.masters ?? 5;
    for (let i = 0; i < masters; i++) processes.push(startService(dir, "master", `master-${i}`, masterArgs(cell, `master-${i}`, options)));
    for (let i = 0; i < (options.schedulers ?? 1); i++) {
      processes.push(startService(dir, "scheduler", `scheduler-${i}`, ["--cell", cellName, "--nats", cell.nats, "--name", `scheduler-${i}`]));
    }
    const borglets = options.hollow === undefined ? (options.borglets ?? 3) : options.hollow.processes * options.hollow.machinesEach;
    const ranges: [number, number][] = [];
    if (options.hollow === undefined) {
      for (let i = 0; i < borglets; i++) {
        const range = await freePortRange(options.portsPerBorglet ?? 100, ranges);
        ranges.push(range);
        processes.push(startService(dir, "borglet", `borglet-${i}`, borgletArgs(cell, `borglet-${i}`, range, options)));
      }
    } else {
      for (let i = 0; i < options.hollow.processes; i++) processes.push(startHollowBorglet(cell, i, options.hollow.machinesEach, options));
    }
    processes.push(
      startService(dir, "gateway", "gateway", ["--cell", cellName, "--nats", cell.nats, "--port", String(gatewayPort), "--host", "127.0.0.1"]),
    );
    record(cell);
    progress(`${masters} masters, ${options.schedulers ?? 1} scheduler, ${borglets} borglets, 1 gateway started; waiting until ready`);

    await waitUntil(
      `the gateway at ${cell.gateway} to see ${borglets} machines up (logs: ${join(dir, "logs")})`,
      async () => {
        const dead = processes.find((p) => !isSameProcessAlive(p));
        if (dead !== undefined) throw new Error(`${dead.name} exited during start-up; see ${dead.log}`);
        try {
          const response = await fetch(`${cell.gateway}/v1/nodes`, { signal: AbortSignal.timeout(2000) });
          if (!response.ok) return false;
          const body = (await response.json()) as { nodes?: { state: string }[] };
          return (body.nodes ?? []).filter((n) => n.state === "up").length >= borglets;
        } catch {
          return false;
        }
      },
      120_000,
      borglets > 100 ? 1000 : 100, // a large cell's node list is megabytes: ask less often
    );
    return cell;
  } catch (error) {
    await stopProcesses(processes, dir);
    rmSync(cellFilePath(dir), { force: true });
    throw error;
  }
}

/**
 * Starts a stopped process of a cell again, exactly as it was started (same ports, same
 * data directory); servers are waited for until they answer.
 */
export async function restartProcess(stopped: StartedProcess): Promise<StartedProcess> {
  if (isSameProcessAlive(stopped)) throw new Error(`${stopped.name} is still running (pid ${stopped.pid})`);
  const options: { log: string; cwd?: string } = { log: stopped.log };
  if (stopped.cwd !== undefined) options.cwd = stopped.cwd;
  const started = startDetached(stopped.role, stopped.name, stopped.command, stopped.args, options);
  const portFlag = stopped.args.indexOf(stopped.role === "nats" ? "-p" : "--port");
  const port = Number(stopped.args[portFlag + 1]);
  if (stopped.role === "nats") await waitUntil(`nats-server on ${port}`, () => tcpAnswers(port, { send: "PING\r\n", expect: "INFO" }), 15_000);
  if (stopped.role === "redis") await waitUntil(`redis-server on ${port}`, () => tcpAnswers(port, { send: "PING\r\n", expect: "+PONG" }), 15_000);
  return started;
}

/** Task process groups recorded by borglets under `dir/borglets/<name>/tasks/*.json`. */
export function recordedTaskProcesses(dir: string): { pid: number; startTime: number }[] {
  const found: { pid: number; startTime: number }[] = [];
  const borglets = join(dir, "borglets");
  if (!existsSync(borglets)) return found;
  for (const borglet of readdirSync(borglets)) {
    const tasks = join(borglets, borglet, "tasks");
    if (!existsSync(tasks)) continue;
    for (const file of readdirSync(tasks)) {
      try {
        const record = JSON.parse(readFileSync(join(tasks, file), "utf8")) as { pid?: unknown; startTime?: unknown };
        if (typeof record.pid === "number" && typeof record.startTime === "number") found.push({ pid: record.pid, startTime: record.startTime });
      } catch {
        // a record being written right now; the borglet owns it
      }
    }
  }
  return found;
}

/**
 * Stops exactly what the cell started (each pid checked against its start time, so a
 * reused pid is never signalled): services first with SIGTERM, then SIGKILL after
 * `graceMs`, then the tasks borglets left behind, then redis and nats.
 */
export async function stopProcesses(processes: readonly StartedProcess[], dir: string, graceMs = 5000): Promise<void> {
  const services = processes.filter((p) => p.role !== "nats" && p.role !== "redis");
  const servers = processes.filter((p) => p.role === "nats" || p.role === "redis");
  const stop = async (group: readonly Pick<StartedProcess, "pid" | "startTime">[]) => {
    for (const p of group) signalGroup(p, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (group.some(isSameProcessAlive) && Date.now() < deadline) await sleep(50);
    for (const p of group) signalGroup(p, "SIGKILL");
    await waitUntil("processes to exit", () => !group.some(isSameProcessAlive), 5000).catch(() => {});
  };
  await stop(services);
  await stop(recordedTaskProcesses(dir));
  await stop(servers);
}

export async function stopLocalCell(dir: string, graceMs = 5000): Promise<CellFile | undefined> {
  const cell = readCellFile(resolve(dir));
  if (cell === undefined) return undefined;
  await stopProcesses(cell.processes, cell.dir, graceMs);
  rmSync(cellFilePath(cell.dir), { force: true });
  return cell;
}
