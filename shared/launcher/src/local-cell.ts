import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { bnsBucket, CorralError } from "@corral/contracts";
import { freePort, freePortRange, shareReservations } from "./ports.js";
import { cellFilePath, readCellFile, writeCellFile, type CellFile } from "./cell-file.js";
import { startDetached, waitUntil, type StartedProcess } from "./processes.js";
import { isSameProcessAlive } from "@corral/kit";
import { startNatsServer, startRedisSentinel, startRedisServer, waitForJetStream, type NatsGatewayRemote, type RedisDurability } from "./servers.js";
import { requireExecutable } from "./executables.js";
import { guardWithStarter, releaseFromStarter } from "./starter-guard.js";
import { stopProcesses } from "./teardown.js";

// The cell file, the teardown and the starter guard were split out of this file; they are
// still exported from here, so callers import the whole launcher from one place.
export * from "./cell-file.js";
export * from "./teardown.js";
export * from "./starter-guard.js";
export * from "./restart-process.js";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TSX_LOADER = import.meta.resolve("tsx");

export type ServiceName = "master" | "scheduler" | "borglet" | "gateway";

/** How a service is run: from its TypeScript source through tsx, or from `npm run build`'s output on plain node. */
export type ServiceForm = "source" | "built";

export function serviceEntry(service: ServiceName, form: ServiceForm = "source"): string {
  return form === "source" ? join(REPO_ROOT, "services", service, "src", "main.ts") : join(REPO_ROOT, "services", service, "dist", "src", "main.js");
}

/** The node flags that load a service of that form: tsx for source; for built, every @corral/* package's dist/. */
function loaderFlags(form: ServiceForm): string[] {
  return form === "source" ? ["--import", TSX_LOADER] : ["--conditions=corral-built"];
}

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
  /**
   * A cell (not a federation) on this many nats-servers routed into one NATS cluster; every
   * service is given all their URLs and reconnects to another when its server goes. Default 1.
   */
  natsServers?: number;
  /**
   * The cell's Redis as a primary, a replica and three Sentinels (a cell, not a federation):
   * the masters reach it as sentinel://…/<cell>, follow a promotion, and wait for the replica
   * on every commit and won epoch (--redis-wait-replicas 1).
   */
  redisSentinels?: boolean;
  /** copies JetStream keeps of the cell's streams and buckets (--js-replicas); default: 3 on 3 or more nats-servers, else 1 */
  jsReplicas?: number;
  /**
   * The cell stops when the process that starts it exits or is killed (even by SIGKILL)
   * without stopping it: for load tests and tests. Stop such a cell with `stopStartedCell`
   * or `stopLocalCell`. Off for `corral cell up`, whose cell outlives the command.
   */
  dieWithStarter?: boolean;
  /** run the services from `npm run build`'s output on plain node rather than from source (default: source) */
  form?: ServiceForm;
}

/** Starts one service process of a local cell. */
export function launchService(
  dir: string,
  service: ServiceName,
  name: string,
  args: readonly string[],
  form: ServiceForm = "source",
): StartedProcess {
  mkdirSync(join(dir, "logs"), { recursive: true });
  // gc() is exposed so memory per task and per machine can be measured without garbage in it.
  const nodeFlags = service === "master" ? ["--expose-gc", "--max-old-space-size=8192"] : ["--expose-gc", "--max-old-space-size=4096"];
  // CORRAL_PROFILE_DIR: every service (or those CORRAL_PROFILE_SERVICES lists, e.g. "master")
  // writes a V8 cpu profile there when it exits, for finding hot paths.
  const profileDir = process.env["CORRAL_PROFILE_DIR"];
  const profiled = (process.env["CORRAL_PROFILE_SERVICES"] ?? "").split(",").filter((kind) => kind !== "");
  if (profileDir !== undefined && profileDir !== "" && (profiled.length === 0 || profiled.includes(service))) nodeFlags.push("--cpu-prof", `--cpu-prof-dir=${join(profileDir, name)}`);
  return startDetached(service, name, process.execPath, [...nodeFlags, ...loaderFlags(form), serviceEntry(service, form), ...args], {
    log: join(dir, "logs", `${name}.log`),
    cwd: REPO_ROOT,
  });
}

export function borgletArgs(
  cell: CellFile | { cell: string; nats: string; dir: string },
  name: string,
  ports: readonly [number, number],
  options: Pick<CellOptions, "heartbeatMs" | "borgletCapacity"> & { attributes?: Record<string, string>; hostShare?: number } = {},
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
  if (options.hostShare !== undefined) args.push("--host-share", String(options.hostShare));
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
  return launchService(cell.dir, "borglet", name, args);
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

/** --js-replicas as the options ask, or as many copies as a cluster of their nats-servers can hold (at most 3). */
function jsReplicasOf(options: Pick<CellOptions, "jsReplicas" | "natsServers">): number {
  return options.jsReplicas ?? Math.min(3, options.natsServers ?? 1);
}

export function masterArgs(cell: { cell: string; nats: string; redis: string }, name: string, options: Pick<CellOptions, "downAfterMs" | "leaseTtlMs" | "checkpointEveryMs" | "quotaFile" | "reservationHalfLifeMs" | "jsReplicas" | "natsServers" | "redisSentinels">): string[] {
  return [
    "--cell", cell.cell,
    "--nats", cell.nats,
    "--redis", cell.redis,
    "--name", name,
    "--down-after", `${options.downAfterMs ?? 5000}ms`,
    // The master's own default lease (long: failover does not wait for it to run out).
    ...(options.leaseTtlMs === undefined ? [] : ["--lease-ttl", `${options.leaseTtlMs}ms`]),
    "--checkpoint-every", `${options.checkpointEveryMs ?? 10_000}ms`,
    ...(options.quotaFile === undefined ? [] : ["--quota", options.quotaFile]),
    ...(options.reservationHalfLifeMs === undefined ? [] : ["--reservation-half-life", `${options.reservationHalfLifeMs}ms`]),
    "--js-replicas", String(jsReplicasOf(options)),
    ...(options.redisSentinels === true ? ["--redis-wait-replicas", "1"] : []),
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
  const natsServers = options.natsServers ?? 1;
  if (!Number.isInteger(natsServers) || natsServers < 1 || natsServers > 9) {
    throw new CorralError("bad_request", `natsServers is ${natsServers}: a cell runs on 1 to 9 nats-servers, e.g. 3 for a cluster that outlives one server`, "natsServers");
  }
  if (options.redisSentinels === true && federated) {
    throw new CorralError("bad_request", "redisSentinels gives one cell a replicated Redis with Sentinels; a federation's cells each have their own redis-server", "redisSentinels");
  }
  if (natsServers > 1 && federated) {
    throw new CorralError("bad_request", "natsServers makes one cell's NATS cluster; a federation's cells each get their own server with natsPerCell", "natsServers");
  }
  requireExecutable("nats-server");
  requireExecutable("redis-server");
  mkdirSync(dir, { recursive: true });
  // Before the first process, so that whatever the cell file ever lists is covered.
  if (options.dieWithStarter === true) guardWithStarter(dir);

  const processes: StartedProcess[] = [];
  const record = writeCellFile;
  // Recorded the moment it is spawned, not once ready: a watchdog tearing down the cell of a
  // starter that died mid-start finds it in the cell file.
  const track = (started: StartedProcess) => {
    processes.push(started);
    record(cell);
  };
  const gatewayCount = options.gateways ?? 1;
  // Client ports of the nats-servers: one, or with natsPerCell one per cell.
  const natsPorts: number[] = [];
  for (let i = 0; i < (natsPerCell ? cellNames.length : natsServers); i++) natsPorts.push(await freePort());
  const natsUrl = (c: number) => (natsServers > 1 ? natsPorts.map((port) => `nats://127.0.0.1:${port}`).join(",") : `nats://127.0.0.1:${natsPorts[natsPerCell ? c : 0]}`);
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
    if (natsPerCell) await startSuperCluster(dir, cellNames, natsPorts, processes, progress, track);
    else if (natsServers > 1) await startNatsCluster(dir, cellNames[0]!, natsPorts, processes, progress, track);
    else {
      progress(`nats-server on port ${natsPorts[0]}`);
      await startNatsServer({ dir: join(dir, "nats"), port: natsPorts[0]!, onSpawned: track });
    }
    let borglets = 0;
    const portRanges: [number, number][] = [];
    for (const [c, cellName] of cellNames.entries()) {
      const member = { cell: cellName, nats: natsUrl(c), redis: `redis://127.0.0.1:${redisPorts[c]}`, dir };
      progress(`${federated ? `cell ${cellName}: ` : ""}redis-server on port ${redisPorts[c]}`);
      await startRedisServer({ dir: join(dir, federated ? `redis-${cellName}` : "redis"), port: redisPorts[c]!, durability: options.redisDurability ?? "everysec", name: named(cellName, "redis-server"), onSpawned: track });
      if (options.redisSentinels === true) {
        member.redis = await startSentinelGroup(dir, cellName, redisPorts[c]!, options.redisDurability ?? "everysec", progress, track);
        cell.redis = member.redis;
      }
      borglets += await startCellServices(cell, member, options, track, named, portRanges);
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
      const gatewayArgs = ["--cell", cellNames[0]!, "--nats", cell.nats, "--port", String(ports.http), "--host", "127.0.0.1", "--dns-port", String(ports.dns), "--js-replicas", String(jsReplicasOf(options))];
      if (federated) gatewayArgs.push("--cells", cellNames.join(","), "--name", name);
      if (options.cellDownAfterMs !== undefined) gatewayArgs.push("--cell-down-after", `${options.cellDownAfterMs}ms`);
      track(launchService(dir, "gateway", name, [...gatewayArgs, ...metricsArgs(await metricsPortFor(cell))], options.form));
    }
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
    releaseFromStarter(dir);
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
  track: (started: StartedProcess) => void,
): Promise<void> {
  const ports: { client: number; route: number; gateway: number }[] = [];
  for (const client of clientPorts) ports.push({ client, route: await freePort(), gateway: await freePort() });
  const gateways: NatsGatewayRemote[] = cellNames.map((name, c) => ({ name, urls: [`nats://127.0.0.1:${ports[c]!.gateway}`] }));
  const died = () => processes.find((p) => !isSameProcessAlive(p))?.name;
  for (const [c, cellName] of cellNames.entries()) {
    const { client, route, gateway } = ports[c]!;
    progress(`cell ${cellName}: nats-server on port ${client} (cluster ${cellName}, gateway port ${gateway})`);
    await startNatsServer({
      dir: join(dir, `nats-${cellName}`),
      port: client,
      name: `${cellName}-nats-server`,
      serverName: `corral-${cellName}`,
      superCluster: { cluster: cellName, routePort: route, gatewayPort: gateway, gateways },
      onSpawned: track,
    });
  }
  progress(`waiting for JetStream's meta group over ${cellNames.length} NATS clusters to elect a leader`);
  await Promise.all(ports.map(({ client }) => waitForJetStream(`nats://127.0.0.1:${client}`, { timeoutMs: 60_000, died })));
}

/**
 * A replica of the cell's primary and three Sentinels watching both; returns the address the
 * masters connect through (sentinel://…/<cell>).
 */
async function startSentinelGroup(
  dir: string,
  cellName: string,
  primaryPort: number,
  durability: RedisDurability,
  progress: (message: string) => void,
  track: (started: StartedProcess) => void,
): Promise<string> {
  const replicaPort = await freePort();
  progress(`redis replica on port ${replicaPort}, and three Sentinels`);
  await startRedisServer({ dir: join(dir, "redis-replica"), port: replicaPort, durability, replicaOf: primaryPort, name: "redis-replica", onSpawned: track });
  const sentinelPorts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    sentinelPorts.push(port);
    await startRedisSentinel({ dir: join(dir, `redis-sentinel-${i}`), port, primaryPort, group: cellName, quorum: 2, name: `redis-sentinel-${i}`, onSpawned: track });
  }
  return `sentinel://${sentinelPorts.map((port) => `127.0.0.1:${port}`).join(",")}/${cellName}`;
}

/**
 * One NATS cluster of routed servers (`nats-server-0` …), JetStream on each; returns once its
 * meta group has a leader. Streams created with --js-replicas 3 then keep a copy on three.
 */
async function startNatsCluster(
  dir: string,
  cluster: string,
  clientPorts: readonly number[],
  processes: StartedProcess[],
  progress: (message: string) => void,
  track: (started: StartedProcess) => void,
): Promise<void> {
  const routePorts: number[] = [];
  for (const _ of clientPorts) routePorts.push(await freePort());
  const routes = routePorts.map((port) => `nats://127.0.0.1:${port}`);
  const died = () => processes.find((p) => !isSameProcessAlive(p))?.name;
  progress(`a NATS cluster of ${clientPorts.length} servers on ports ${clientPorts.join(", ")}`);
  for (const [i, port] of clientPorts.entries()) {
    await startNatsServer({
      dir: join(dir, `nats-${i}`),
      port,
      name: `nats-server-${i}`,
      serverName: `corral-${cluster}-${i}`,
      superCluster: { cluster, routePort: routePorts[i]!, routes },
      onSpawned: track,
    });
  }
  await Promise.all(clientPorts.map((port) => waitForJetStream(`nats://127.0.0.1:${port}`, { timeoutMs: 60_000, died })));
}

/** One cell's masters, schedulers and borglets (real or hollow); returns how many machines it will have. */
async function startCellServices(
  file: CellFile,
  cell: { cell: string; nats: string; redis: string; dir: string },
  options: CellOptions,
  track: (started: StartedProcess) => void,
  named: (cell: string, name: string) => string,
  /** task port ranges handed out so far, so no two borglets (of any cell) share one */
  usedPortRanges: [number, number][],
): Promise<number> {
  const { dir } = cell;
  for (let i = 0; i < (options.masters ?? 5); i++) {
    const name = named(cell.cell, `master-${i}`);
    const quotaFile = options.quotaFiles?.[cell.cell] ?? options.quotaFile;
    track(launchService(dir, "master", name, [...masterArgs(cell, name, { ...options, ...(quotaFile === undefined ? {} : { quotaFile }) }), ...metricsArgs(await metricsPortFor(file))], options.form));
  }
  for (let i = 0; i < (options.schedulers ?? 1); i++) {
    const name = named(cell.cell, `scheduler-${i}`);
    track(launchService(dir, "scheduler", name, ["--cell", cell.cell, "--nats", cell.nats, "--name", name, ...metricsArgs(await metricsPortFor(file))], options.form));
  }
  if (options.hollow !== undefined) {
    for (let i = 0; i < options.hollow.processes; i++) {
      track(startHollowBorglet(cell, i, options.hollow.machinesEach, { ...options, metricsPort: await metricsPortFor(file), name: named(cell.cell, `hollow-${i}`) }));
    }
    return options.hollow.processes * options.hollow.machinesEach;
  }
  const borglets = options.borglets ?? 3;
  for (let i = 0; i < borglets; i++) {
    const range = await freePortRange(options.portsPerBorglet ?? 100, usedPortRanges);
    usedPortRanges.push(range);
    const name = named(cell.cell, `borglet-${i}`);
    // Every real borglet of a local cell (of every cell of a local federation) runs on this one host: each offers its share.
    const hostShare = borglets * Math.max(1, options.cells?.length ?? 1);
    const args = [...borgletArgs(cell, name, range, { ...options, hostShare, attributes: options.borgletAttributes?.(i) ?? { rack: `r${i}` } }), ...metricsArgs(await metricsPortFor(file))];
    const borglet = launchService(dir, "borglet", name, args, options.form);
    // Its tasks bind these ports whenever they are placed, long after a `cell up` has exited.
    shareReservations(Array.from({ length: range[1] - range[0] + 1 }, (_, offset) => range[0] + offset), borglet);
    track(borglet);
  }
  return borglets;
}
