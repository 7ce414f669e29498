// A cell over several hosts on this one machine: each host a network namespace with its own
// address (host-network.ts), the servers and services spread over them as they would be over
// real machines. Every process listens on its host's address at the port it would use on a
// machine of its own, so `nats://10.x.y.2:4222` means what it would in a real cell.
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { CorralError } from "@corral/contracts";
import { prepareCellDir } from "./cell-binaries.js";
import { DEFAULT_ADMIN, ensureAdminToken, ensureLeaderKey, ensureRedisPassword } from "./cell-secrets.js";
import { authorizeNatsClients, natsAuthOf, natsCredentialsFile, OPERATOR_CLIENT } from "./nats-clients.js";
import { cellClients, operatorClients } from "./cell-clients.js";
import { readNatsCredentials } from "@corral/kit";
import { cellFilePath, writeCellFile, type CellFile } from "./cell-file.js";
import type { CellOptions } from "./cell-options.js";
import { waitForMachinesUp } from "./cell-readiness.js";
import { requireExecutable, systemExecutable } from "./executables.js";
import { HostNetwork, newTag } from "./host-network.js";
import type { Placement, StartedProcess } from "./processes.js";
import { natsAuthOptions, natsUrlOf, startNatsCluster, startSentinelGroup, type ServerSeat, type StartContext } from "./server-groups.js";
import { ensureCellTls } from "./cell-tls.js";
import { startNatsServer, startRedisServer } from "./servers.js";
import { borgletArgs, gatewayArgs, launchService, masterArgs, metricsArgs, schedulerArgs, startHollowBorglet, type CellSignIn } from "./service-launch.js";
import { guardWithStarter, releaseFromStarter } from "./starter-guard.js";
import { stopProcesses } from "./teardown.js";

/** The ports a Corral host uses, as on a real machine (deploy/README.md lists the same). */
const PORTS = { nats: 4222, redis: 6379, sentinel: 26379, gateway: 8080, dns: 5353, firstMetrics: 9101, tasks: [20000, 20999] as [number, number] };

/** Hosts needed before the cell runs a NATS cluster and Redis with Sentinels over them. */
export const REPLICATED_FROM_HOSTS = 3;

/** Options a multi-host cell decides itself, or that describe a one-host cell. */
const DECIDED_BY_HOSTS = ["cells", "natsPerCell", "natsServers", "redisSentinels", "borglets", "borgletCapacity"] as const;

/**
 * Starts a cell over `options.hosts` hosts (root only). With 3 or more: hosts 0–2 run a
 * nats-server each, routed into one cluster, JetStream streams at 3 replicas; the Redis
 * primary runs on host 1, replicas on hosts 2 and 0, a Sentinel on each of hosts 0–2, and the
 * masters commit only once a replica has each write: any one host can be lost. With fewer, one nats-server and one
 * redis-server on host 0. Either way the masters go round the hosts (master-i on host i mod
 * N), the scheduler and the gateway (API on port 8080, DNS on 5353) run on host 0, and every
 * host runs one borglet that tasks reach at the host's address (or, with `hollow`, the
 * hollow fleets go round the hosts instead). `cell down` removes the
 * hosts with the processes.
 */
export async function startMultiHostCell(options: CellOptions & { hosts: number }): Promise<CellFile> {
  for (const option of DECIDED_BY_HOSTS) {
    if (options[option] !== undefined) {
      throw new CorralError("bad_request", `${option} cannot be combined with hosts: a multi-host cell runs one borglet per host, and with 3 or more hosts a NATS cluster and Redis with Sentinels over them`, option);
    }
  }
  if ((options.gateways ?? 1) !== 1) throw new CorralError("bad_request", "a multi-host cell has one gateway, on host 0", "gateways");
  requireExecutable("nats-server");
  requireExecutable("redis-server");
  systemExecutable("nsenter");
  const dir = resolve(options.dir);
  const progress = options.onProgress ?? (() => {});
  const tag = newTag();
  HostNetwork.check(options.hosts, tag);
  const cellName = options.cell ?? "local";
  const processes: StartedProcess[] = [];
  // Recorded before the first namespace is made, so a starter killed while they are being
  // made still leaves its watchdog (or `cell down`) the names of all it may have made.
  const cell: CellFile = { cell: cellName, dir, gateway: "", nats: "", redis: "", metrics: [], startedAt: new Date().toISOString(), processes, network: HostNetwork.planned(options.hosts, tag) };
  const failed = async (error: unknown): Promise<never> => {
    await stopProcesses(processes, dir);
    await HostNetwork.fromRecord(cell.network!).remove();
    rmSync(cellFilePath(dir), { force: true });
    releaseFromStarter(dir);
    throw error;
  };
  try {
    mkdirSync(dir, { recursive: true });
    prepareCellDir(dir, progress);
    cell.admin = ensureAdminToken(dir, options.admin ?? DEFAULT_ADMIN);
    cell.redisPasswordFile = ensureRedisPassword(dir);
    cell.natsAuth = natsAuthOf(dir);
    cell.leaderKey = ensureLeaderKey(dir);
    // One borglet per host, named as startHostBorglet names them.
    authorizeNatsClients(cell.natsAuth, [...cellClients(cellName, { ...options, borglets: options.hosts }, (name) => name), { name: "gateway", grant: { role: "gateway", cells: [cellName] } }, ...operatorClients(cellName, cell.admin.user)], "replace");
    writeCellFile(cell);
    if (options.dieWithStarter === true) guardWithStarter(dir);
  } catch (error) {
    return failed(error);
  }
  progress(`${options.hosts} hosts: network namespaces on one bridge`);
  const network = await HostNetwork.create(options.hosts, tag).catch(failed);
  const hosts = network.hosts;
  const on = (index: number): Placement => network.placement(hosts[index % hosts.length]!);
  const replicated = hosts.length >= REPLICATED_FROM_HOSTS;
  const natsSeats: ServerSeat[] = (replicated ? [0, 1, 2] : [0]).map((index) => ({ port: PORTS.nats, on: on(index) }));
  const primary: ServerSeat = { port: PORTS.redis, on: on(replicated ? 1 : 0) };
  // Its traffic crosses hosts: TLS unless asked not to, with every host's address in the certificate.
  if (options.tls !== false) cell.tls = ensureCellTls(dir, hosts.map((host) => host.address));
  Object.assign(cell, {
    gateway: `${cell.tls === undefined ? "http" : "https"}://${hosts[0]!.address}:${PORTS.gateway}`,
    dns: `${hosts[0]!.address}:${PORTS.dns}`,
    nats: natsSeats.map(natsUrlOf).join(","),
    redis: `redis://${primary.on.address}:${primary.port}`,
    network: network.toRecord(),
  });
  writeCellFile(cell);
  const context: StartContext = {
    dir,
    processes,
    progress,
    track: (started) => {
      processes.push(started);
      writeCellFile(cell);
    },
    natsSignIn: { authConfig: cell.natsAuth!.config, credentials: readNatsCredentials(natsCredentialsFile(cell.natsAuth!, OPERATOR_CLIENT)) },
    tls: cell.tls,
  };
  const signIn = { natsAuth: cell.natsAuth!, leaderKey: cell.leaderKey!, tls: cell.tls };
  // Several services share a host: each gets the host's next metrics port.
  const nextMetricsPort = new Map<string, number>();
  const metricsPortOn = (place: Placement): number => {
    const port = nextMetricsPort.get(place.address) ?? PORTS.firstMetrics;
    nextMetricsPort.set(place.address, port + 1);
    cell.metrics!.push(`http://${place.address}:${port}/metrics`);
    return port;
  };
  const metricsOn = (place: Placement): string[] => metricsArgs(metricsPortOn(place), place.address);
  try {
    if (replicated) await startNatsCluster(context, cellName, natsSeats);
    else {
      progress(`nats-server at ${natsUrlOf(natsSeats[0]!)}`);
      await startNatsServer({ dir: join(dir, "nats"), port: PORTS.nats, onSpawned: context.track, on: natsSeats[0]!.on, ...natsAuthOptions(context) });
    }
    progress(`redis-server at ${primary.on.address}:${primary.port}`);
    await startRedisServer({ dir: join(dir, "redis"), port: primary.port, durability: options.redisDurability ?? "everysec", onSpawned: context.track, on: primary.on, passwordFile: cell.redisPasswordFile!, tls: cell.tls });
    if (replicated) cell.redis = await startSentinelGroup(context, cellName, primary, options.redisDurability ?? "everysec", {
        // Two replicas: the masters wait for one on every commit, so one lost still leaves one to wait for.
        replicas: [2, 0].map((index) => ({ port: PORTS.redis, on: on(index) })),
        sentinels: [0, 1, 2].map((index) => ({ port: PORTS.sentinel, on: on(index) })),
      }, cell.redisPasswordFile);
    const shape = { natsServers: natsSeats.length, redisSentinels: replicated };
    const member = { cell: cellName, nats: cell.nats, redis: cell.redis, dir, admin: cell.admin, redisPasswordFile: cell.redisPasswordFile, ...signIn };
    for (let i = 0; i < (options.masters ?? 5); i++) {
      const name = `master-${i}`;
      context.track(launchService(dir, "master", name, [...masterArgs(member, name, { ...options, ...shape }), ...metricsOn(on(i))], options.form, on(i)));
    }
    for (let i = 0; i < (options.schedulers ?? 1); i++) {
      const name = `scheduler-${i}`;
      context.track(launchService(dir, "scheduler", name, [...schedulerArgs(member, name), ...metricsOn(on(0))], options.form, on(0)));
    }
    const gateway = gatewayArgs(member, { address: hosts[0]!.address, port: PORTS.gateway, dnsPort: PORTS.dns }, { ...options, ...shape }, "gateway");
    context.track(launchService(dir, "gateway", "gateway", [...gateway, ...metricsOn(on(0))], options.form, on(0)));
    let machines = hosts.length;
    if (options.hollow === undefined) for (let i = 0; i < hosts.length; i++) context.track(startHostBorglet({ ...cell, ...signIn }, i, hosts.length, options, on(i), metricsOn));
    else {
      // Hollow fleets instead of real borglets, hollow-i on host i mod N.
      for (let i = 0; i < options.hollow.processes; i++) {
        context.track(startHollowBorglet({ ...cell, ...signIn }, i, options.hollow.machinesEach, { ...options, name: `hollow-${i}`, on: on(i), metricsPort: metricsPortOn(on(i)) }));
      }
      machines = options.hollow.processes * options.hollow.machinesEach;
    }
    progress(`${options.masters ?? 5} masters, ${options.schedulers ?? 1} scheduler, ${machines} machines and a gateway over ${hosts.length} hosts; waiting until ready`);
    await waitForMachinesUp(cell, processes, [cellName], machines);
    return cell;
  } catch (error) {
    return failed(error);
  }
}

/** The borglet of host `index`: tasks reach it, and it reaches them, at the host's address. */
function startHostBorglet(cell: CellFile & CellSignIn, index: number, hostCount: number, options: CellOptions, place: Placement, metricsOn: (place: Placement) => string[]): StartedProcess {
  const name = `borglet-${index}`;
  // The hosts share this machine's cpu, memory and disk: each borglet offers its share.
  const attributes = options.borgletAttributes?.(index) ?? { rack: `r${index}`, host: place.host!.name };
  const args = [...borgletArgs(cell, name, PORTS.tasks, { ...options, hostShare: hostCount, attributes, host: place.address }), ...metricsOn(place)];
  return launchService(cell.dir, "borglet", name, args, options.form, place);
}
