import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { bnsBucket, CorralError } from "@corral/contracts";
import { canBind, freePort, freePortRange, shareReservations } from "./ports.js";
import { borgletCgroupPath, removeEmptyCgroups } from "./cgroup-dirs.js";
import { isSameProcessAlive, signalGroup, startDetached, tcpAnswers, waitUntil, type StartedProcess } from "./processes.js";
import { startNatsServer, startRedisServer, waitForJetStream, type NatsGatewayRemote, type RedisDurability } from "./servers.js";
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
  /** host:port of the gateway's DNS server for the cell's names (absent in cell files of older versions) */
  dns: z.string().optional(),
  nats: z.string(),
  redis: z.string(),
  /** every service's /metrics URL (absent in cell files of older versions) */
  metrics: z.array(z.string()).optional(),
  startedAt: z.string(),
  processes: z.array(startedProcessSchema),
  /** a federation's cells, each with its own Redis, and with `natsPerCell` its own nats-server (`nats`; else all use `nats` above) */
  cells: z.array(z.object({ cell: z.string(), redis: z.string(), nats: z.string().optional() })).optional(),
  /** every gateway's URL when there are several; the first is also `gateway` */
  gateways: z.array(z.string()).optional(),
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
  /** how often a standby checkpoints the cell's state */
  checkpointEveryMs?: number;
  /** the cell's quota file (per user per band); default: none, every user unlimited */
  quotaFile?: string;
  /** in a federation, a cell's own quota file instead of `quotaFile` */
  quotaFiles?: Record<string, string>;
  /** masters' --reservation-half-life (resource reclamation) */
  reservationHalfLifeMs?: number;
  heartbeatMs?: number;
  portsPerBorglet?: number;
  redisDurability?: RedisDurability;
  /** instead of real borglets: this many hollow borglet processes, each simulating `machinesEach` machines */
  hollow?: { processes: number; machinesEach: number };
  /** resources each borglet announces; default: the host's */
  borgletCapacity?: { cpu?: number; ram?: string; disk?: string };
  /** attributes of borglet i (rack, power, arch, …); default: each machine its own rack */
  borgletAttributes?: (index: number) => Record<string, string>;
  /** progress lines for people */
  onProgress?: (message: string) => void;
  /** a federation: these cells, each with its own redis-server, masters, schedulers and borglets, on one nats-server */
  cells?: string[];
  /** gateways in front of the cells (default 1) */
  gateways?: number;
  /** gateways' --cell-down-after: a cell unanswering this long has its share of federated jobs placed elsewhere */
  cellDownAfterMs?: number;
  /**
   * With `cells`: each cell gets its own nats-server (a NATS cluster named after the cell,
   * with its own JetStream store), and NATS gateways join them into one super-cluster. A
   * cell's services connect to their cell's server; the gateways to the first cell's, and
   * reach the others through the NATS gateways. See deploy/nats/README.md.
   */
  natsPerCell?: boolean;
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
  options: Pick<CellOptions, "heartbeatMs" | "borgletCapacity"> & { attributes?: Record<string, string> } = {},
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
  for (const [key, value] of Object.entries(options.attributes ?? {})) args.push("--attribute", `${key}=${value}`);
  return args;
}

/** Hollow borglet number `index` of a cell, simulating `machines` machines named hollow-<index>-<n>. */
export function startHollowBorglet(
  cell: { cell: string; nats: string; dir: string },
  index: number,
  machines: number,
  options: Pick<CellOptions, "heartbeatMs"> & { metricsPort?: number; name?: string } = {},
): StartedProcess {
  const name = options.name ?? `hollow-${index}`;
  // Hollow tasks bind nothing, so any port range will do.
  const args = [...borgletArgs(cell, name, [20000, 29999], options), "--hollow", String(machines), "--seed", String(index + 1)];
  if (options.metricsPort !== undefined) args.push(...metricsArgs(options.metricsPort));
  return startService(cell.dir, "borglet", name, args);
}

/** A service's exporter on loopback at `port`. */
function metricsArgs(port: number): string[] {
  return ["--metrics-port", String(port), "--metrics-host", "127.0.0.1"];
}

/** A free port for the next service's /metrics, its URL recorded in the cell file. */
async function metricsPortFor(cell: CellFile): Promise<number> {
  const port = await freePort();
  (cell.metrics ??= []).push(`http://127.0.0.1:${port}/metrics`);
  return port;
}

export function masterArgs(cell: { cell: string; nats: string; redis: string }, name: string, options: Pick<CellOptions, "downAfterMs" | "leaseTtlMs" | "checkpointEveryMs" | "quotaFile" | "reservationHalfLifeMs">): string[] {
  return [
    "--cell", cell.cell,
    "--nats", cell.nats,
    "--redis", cell.redis,
    "--name", name,
    "--down-after", `${options.downAfterMs ?? 5000}ms`,
    "--lease-ttl", `${options.leaseTtlMs ?? 1000}ms`,
    "--checkpoint-every", `${options.checkpointEveryMs ?? 10_000}ms`,
    ...(options.quotaFile === undefined ? [] : ["--quota", options.quotaFile]),
    ...(options.reservationHalfLifeMs === undefined ? [] : ["--reservation-half-life", `${options.reservationHalfLifeMs}ms`]),
  ];
}

/**
 * Starts a whole local cell in the background: nats-server and redis-server on free ports
 * with data under `dir`, the masters, schedulers, borglets and a gateway; returns once the
 * gateway answers and every borglet is registered. With `cells`, a federation: one
 * nats-server, and for each cell its own redis-server, masters, scheduler and borglets
 * (processes named `<cell>-master-0`, …), behind `gateways` gateways that federate them all.
 * With `natsPerCell`, each cell has its own nats-server (`<cell>-nats-server`), the servers
 * joined by NATS gateways into a super-cluster.
 */
export async function startLocalCell(options: CellOptions): Promise<CellFile> {
  const dir = resolve(options.dir);
  const federated = options.cells !== undefined;
  const cellNames = options.cells ?? [options.cell ?? "local"];
  const progress = options.onProgress ?? (() => {});
  const running = readCellFile(dir);
  if (running !== undefined && running.processes.some(isSameProcessAlive)) {
    throw new CorralError("conflict", `a cell is already running in ${dir} (gateway ${running.gateway}); stop it with: corral cell down --dir ${dir}`);
  }
  if (new Set(cellNames).size !== cellNames.length || cellNames.length === 0) {
    throw new CorralError("bad_request", `cells: ${cellNames.join(",")} names a cell twice or none; give each cell once, e.g. --cells a,b,c`, "cells");
  }
  if (options.natsPerCell === true && !federated) {
    throw new CorralError("bad_request", "natsPerCell gives each cell of a federation its own nats-server; name the cells too, e.g. --cells a,b,c", "natsPerCell");
  }
  const natsPerCell = options.natsPerCell === true;
  requireExecutable("nats-server");
  requireExecutable("redis-server");
  mkdirSync(dir, { recursive: true });

  const processes: StartedProcess[] = [];
  const record = writeCellFile;
  const gatewayCount = options.gateways ?? 1;
  // Client ports of the nats-servers: one, or with natsPerCell one per cell.
  const natsPorts: number[] = [];
  for (const _ of natsPerCell ? cellNames : [cellNames[0]]) natsPorts.push(await freePort());
  const natsUrl = (c: number) => `nats://127.0.0.1:${natsPorts[natsPerCell ? c : 0]}`;
  const redisPorts: number[] = [];
  for (const _ of cellNames) redisPorts.push(await freePort());
  const gatewayPorts: { http: number; dns: number }[] = [];
  for (let i = 0; i < gatewayCount; i++) gatewayPorts.push({ http: await freePort(), dns: await freePort() });
  const cell: CellFile = {
    cell: cellNames[0]!,
    dir,
    gateway: `http://127.0.0.1:${gatewayPorts[0]!.http}`,
    dns: `127.0.0.1:${gatewayPorts[0]!.dns}`,
    nats: natsUrl(0),
    redis: `redis://127.0.0.1:${redisPorts[0]}`,
    metrics: [],
    startedAt: new Date().toISOString(),
    processes,
  };
  if (federated) {
    cell.cells = cellNames.map((name, i) => ({ cell: name, redis: `redis://127.0.0.1:${redisPorts[i]}`, ...(natsPerCell ? { nats: natsUrl(i) } : {}) }));
    cell.gateways = gatewayPorts.map((ports) => `http://127.0.0.1:${ports.http}`);
  }
  // Processes of a federation's cells carry the cell's name: `a-master-0`, `a-borglet-1`.
  const named = (cellName: string, name: string) => (federated ? `${cellName}-${name}` : name);
  try {
    if (natsPerCell) await startSuperCluster(dir, cellNames, natsPorts, processes, progress, () => record(cell));
    else {
      progress(`nats-server on port ${natsPorts[0]}`);
      processes.push(await startNatsServer({ dir: join(dir, "nats"), port: natsPorts[0]! }));
    }
    record(cell);
    let borglets = 0;
    const portRanges: [number, number][] = [];
    for (const [c, cellName] of cellNames.entries()) {
      const member = { cell: cellName, nats: natsUrl(c), redis: `redis://127.0.0.1:${redisPorts[c]}`, dir };
      progress(`${federated ? `cell ${cellName}: ` : ""}redis-server on port ${redisPorts[c]}`);
      processes.push(await startRedisServer({ dir: join(dir, federated ? `redis-${cellName}` : "redis"), port: redisPorts[c]!, durability: options.redisDurability ?? "everysec", name: named(cellName, "redis-server") }));
      record(cell);
      borglets += await startCellServices(cell, member, options, processes, named, portRanges);
      record(cell);
    }
    if (natsPerCell) {
      // A stream lands in the NATS cluster of whoever creates it first. The gateways open every
      // cell's names bucket, so let each cell's leader create its own (in its cell's cluster) first.
      progress("waiting for each cell's leader to open its names bucket in its own NATS cluster");
      const died = () => processes.find((p) => !isSameProcessAlive(p))?.name;
      await Promise.all(cellNames.map((cellName, c) => waitForJetStream(natsUrl(c), { stream: `KV_${bnsBucket(cellName)}`, timeoutMs: 60_000, died })));
    }
    for (const [i, ports] of gatewayPorts.entries()) {
      const name = gatewayCount === 1 ? "gateway" : `gateway-${i}`;
      const gatewayArgs = ["--cell", cellNames[0]!, "--nats", cell.nats, "--port", String(ports.http), "--host", "127.0.0.1", "--dns-port", String(ports.dns)];
      if (federated) gatewayArgs.push("--cells", cellNames.join(","), "--name", name);
      if (options.cellDownAfterMs !== undefined) gatewayArgs.push("--cell-down-after", `${options.cellDownAfterMs}ms`);
      processes.push(startService(dir, "gateway", name, [...gatewayArgs, ...metricsArgs(await metricsPortFor(cell))]));
    }
    record(cell);
    const masters = options.masters ?? 5;
    progress(
      `${federated ? `${cellNames.length} cells, each with ` : ""}${masters} masters, ${options.schedulers ?? 1} scheduler, ${federated ? borglets / cellNames.length : borglets} borglets; ${gatewayCount} gateway${gatewayCount === 1 ? "" : "s"} started; waiting until ready`,
    );
    const perCell = borglets / cellNames.length;
    await waitUntil(
      `the gateway at ${cell.gateway} to see ${perCell} machines up in ${federated ? "each cell" : "the cell"} (logs: ${join(dir, "logs")})`,
      async () => {
        const dead = processes.find((p) => !isSameProcessAlive(p));
        if (dead !== undefined) throw new Error(`${dead.name} exited during start-up; see ${dead.log}`);
        for (const url of cell.gateways ?? [cell.gateway]) {
          for (const cellName of cellNames) {
            try {
              const query = federated ? `?cell=${cellName}` : "";
              const response = await fetch(`${url}/v1/nodes${query}`, { signal: AbortSignal.timeout(2000) });
              if (!response.ok) return false;
              const body = (await response.json()) as { nodes?: { state: string }[] };
              if ((body.nodes ?? []).filter((n) => n.state === "up").length < perCell) return false;
            } catch {
              return false;
            }
          }
        }
        return true;
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
 * One nats-server per cell, each its own NATS cluster named after the cell, all joined by
 * NATS gateways into one super-cluster; returns once JetStream's meta group (over every
 * server) has a leader, which takes a few seconds of Raft elections on a fresh store.
 */
async function startSuperCluster(
  dir: string,
  cellNames: readonly string[],
  clientPorts: readonly number[],
  processes: StartedProcess[],
  progress: (message: string) => void,
  record: () => void,
): Promise<void> {
  const ports: { client: number; route: number; gateway: number }[] = [];
  for (const client of clientPorts) ports.push({ client, route: await freePort(), gateway: await freePort() });
  const gateways: NatsGatewayRemote[] = cellNames.map((name, c) => ({ name, urls: [`nats://127.0.0.1:${ports[c]!.gateway}`] }));
  const died = () => processes.find((p) => !isSameProcessAlive(p))?.name;
  for (const [c, cellName] of cellNames.entries()) {
    const { client, route, gateway } = ports[c]!;
    progress(`cell ${cellName}: nats-server on port ${client} (cluster ${cellName}, gateway port ${gateway})`);
    processes.push(
      await startNatsServer({
        dir: join(dir, `nats-${cellName}`),
        port: client,
        name: `${cellName}-nats-server`,
        serverName: `corral-${cellName}`,
        superCluster: { cluster: cellName, routePort: route, gatewayPort: gateway, gateways },
      }),
    );
    record();
  }
  progress(`waiting for JetStream's meta group over ${cellNames.length} NATS clusters to elect a leader`);
  await Promise.all(ports.map(({ client }) => waitForJetStream(`nats://127.0.0.1:${client}`, { timeoutMs: 60_000, died })));
}

/** One cell's masters, schedulers and borglets (real or hollow); returns how many machines it will have. */
async function startCellServices(
  file: CellFile,
  cell: { cell: string; nats: string; redis: string; dir: string },
  options: CellOptions,
  processes: StartedProcess[],
  named: (cell: string, name: string) => string,
  /** task port ranges handed out so far, so no two borglets (of any cell) share one */
  usedPortRanges: [number, number][],
): Promise<number> {
  const { dir } = cell;
  for (let i = 0; i < (options.masters ?? 5); i++) {
    const name = named(cell.cell, `master-${i}`);
    const quotaFile = options.quotaFiles?.[cell.cell] ?? options.quotaFile;
    processes.push(startService(dir, "master", name, [...masterArgs(cell, name, { ...options, ...(quotaFile === undefined ? {} : { quotaFile }) }), ...metricsArgs(await metricsPortFor(file))]));
  }
  for (let i = 0; i < (options.schedulers ?? 1); i++) {
    const name = named(cell.cell, `scheduler-${i}`);
    processes.push(startService(dir, "scheduler", name, ["--cell", cell.cell, "--nats", cell.nats, "--name", name, ...metricsArgs(await metricsPortFor(file))]));
  }
  if (options.hollow !== undefined) {
    for (let i = 0; i < options.hollow.processes; i++) {
      processes.push(startHollowBorglet(cell, i, options.hollow.machinesEach, { ...options, metricsPort: await metricsPortFor(file), name: named(cell.cell, `hollow-${i}`) }));
    }
    return options.hollow.processes * options.hollow.machinesEach;
  }
  const borglets = options.borglets ?? 3;
  for (let i = 0; i < borglets; i++) {
    const range = await freePortRange(options.portsPerBorglet ?? 100, usedPortRanges);
    usedPortRanges.push(range);
    const name = named(cell.cell, `borglet-${i}`);
    const args = [...borgletArgs(cell, name, range, { ...options, attributes: options.borgletAttributes?.(i) ?? { rack: `r${i}` } }), ...metricsArgs(await metricsPortFor(file))];
    const borglet = startService(dir, "borglet", name, args);
    // Its tasks bind these ports whenever they are placed, long after a `cell up` has exited.
    shareReservations(Array.from({ length: range[1] - range[0] + 1 }, (_, offset) => range[0] + offset), borglet);
    processes.push(borglet);
  }
  return borglets;
}

/**
 * Starts a stopped process of a cell again, exactly as it was started (same ports, same
 * data directory); servers are waited for until they answer.
 */
export async function restartProcess(stopped: StartedProcess): Promise<StartedProcess> {
  if (isSameProcessAlive(stopped)) throw new Error(`${stopped.name} is still running (pid ${stopped.pid})`);
  const options: { log: string; cwd?: string } = { log: stopped.log };
  if (stopped.cwd !== undefined) options.cwd = stopped.cwd;
  if (stopped.role !== "nats" && stopped.role !== "redis") return startDetached(stopped.role, stopped.name, stopped.command, stopped.args, options);
  const port = Number(stopped.args[stopped.args.indexOf(stopped.role === "nats" ? "-p" : "--port") + 1]);
  const probe = stopped.role === "nats" ? { send: "PING\r\n", expect: "INFO" } : { send: "PING\r\n", expect: "+PONG" };
  // A server killed a moment ago may not have let its port go yet (a CI run once saw a
  // restarted redis-server refused with "Address already in use"): wait for the port, and
  // start again should the server still exit at once.
  await waitUntil(`port ${port} to be free for ${stopped.name}`, () => canBind(port), 10_000).catch(() => {});
  for (let attempt = 1; ; attempt++) {
    const started = startDetached(stopped.role, stopped.name, stopped.command, stopped.args, options);
    let exited = false;
    await waitUntil(`${stopped.name} on ${port} (log: ${stopped.log})`, async () => {
      exited = !isSameProcessAlive(started);
      return exited || tcpAnswers(port, probe);
    }, 15_000);
    if (!exited) return started;
    if (attempt === 3) throw new Error(`${stopped.name} exited on restart ${attempt} times; see ${stopped.log} and its own log in its data directory`);
    await sleep(500);
  }
}

const execFileAsync = promisify(execFile);

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
        const record = JSON.parse(readFileSync(join(tasks, file), "utf8")) as { pid?: unknown; startTime?: unknown; container?: { pid?: unknown; startTime?: unknown } };
        if (typeof record.pid === "number" && typeof record.startTime === "number") found.push({ pid: record.pid, startTime: record.startTime });
        // A container's init is in a pid namespace of its own, and outlives its supervisor.
        const container = record.container;
        if (typeof container?.pid === "number" && typeof container.startTime === "number") found.push({ pid: container.pid, startTime: container.startTime });
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
  await removeContainerLeftovers(dir);
  await stop(servers);
}

/**
 * What isolated tasks leave once their processes are gone: runc's state (and with it their
 * cgroups) and their overlay mounts, all under the cell's directory.
 */
async function removeContainerLeftovers(dir: string): Promise<void> {
  const borglets = join(dir, "borglets");
  if (existsSync(borglets)) {
    for (const borglet of readdirSync(borglets)) {
      const root = join(borglets, borglet, "runc");
      if (!existsSync(root)) continue;
      const listed = await execFileAsync("runc", ["--root", root, "list", "-q"]).catch(() => ({ stdout: "" }));
      for (const id of listed.stdout.split("\n").filter((line) => line !== "")) {
        await execFileAsync("runc", ["--root", root, "delete", "--force", id]).catch(() => {});
      }
      // runc leaves the cgroups above its containers: the borglet's own, and its allocs'.
      removeEmptyCgroups([borgletCgroupPath(borglet, join(borglets, borglet))]);
    }
  }
  let mounts = "";
  try {
    mounts = readFileSync("/proc/mounts", "utf8");
  } catch {
    return;
  }
  const under = resolve(dir) + "/";
  const ours = mounts.split("\n").map((line) => line.split(" ")[1] ?? "").filter((point) => point.startsWith(under));
  // Deepest first, so a mount inside another comes off before it.
  for (const point of ours.sort((a, b) => b.length - a.length)) await execFileAsync("umount", ["-l", point]).catch(() => {});
}

export async function stopLocalCell(dir: string, graceMs = 5000): Promise<CellFile | undefined> {
  const cell = readCellFile(resolve(dir));
  if (cell === undefined) return undefined;
  await stopProcesses(cell.processes, cell.dir, graceMs);
  rmSync(cellFilePath(cell.dir), { force: true });
  return cell;
}
