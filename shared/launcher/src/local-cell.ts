import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { bnsBucket, CorralError } from "@corral/contracts";
import { freePort, freePortRange, shareReservations } from "./ports.js";
import { cellFilePath, readCellFile, writeCellFile, type CellFile } from "./cell-file.js";
import { type StartedProcess } from "./processes.js";
import { isSameProcessAlive, readNatsCredentials } from "@corral/kit";
import { prepareCellDir } from "./cell-binaries.js";
import { DEFAULT_ADMIN, ensureAdminToken, ensureLeaderKey, ensureRedisPassword } from "./cell-secrets.js";
import { authorizeNatsClients, natsAuthOf, natsCredentialsFile, OPERATOR_CLIENT } from "./nats-clients.js";
import { cellClients, operatorClients } from "./cell-clients.js";
import { startNatsServer, startRedisServer, waitForJetStream } from "./servers.js";
import { jetStreamWait, natsAuthOptions, startNatsCluster, startSentinelGroup, startSuperCluster, type StartContext } from "./server-groups.js";
import { ensureCellTls } from "./cell-tls.js";
import { LOOPBACK } from "./processes.js";
import { requireExecutable } from "./executables.js";
import { guardWithStarter, releaseFromStarter } from "./starter-guard.js";
import { stopProcesses } from "./teardown.js";
import type { CellOptions } from "./cell-options.js";
import { waitForMachinesUp } from "./cell-readiness.js";
import { startMultiHostCell } from "./multi-host-cell.js";
import { borgletArgs, gatewayArgs, launchService, masterArgs, metricsArgs, metricsPortFor, schedulerArgs, startHollowBorglet, type CellSignIn } from "./service-launch.js";

// The cell file, the teardown, the starter guard, the options and the service command lines
// were split out of this file; they are still exported from here, so callers import the
// whole launcher from one place.
export * from "./cell-file.js";
export * from "./cell-options.js";
export * from "./service-launch.js";
export * from "./teardown.js";
export * from "./starter-guard.js";
export * from "./restart-process.js";

/**
 * Starts a whole local cell in the background: nats-server and redis-server on free ports
 * with data under `dir`, the masters, schedulers, borglets and a gateway; returns once the
 * gateway answers and every borglet is registered. With `cells`, a federation: one
 * nats-server, and for each cell its own redis-server, masters, scheduler and borglets
 * (processes named `<cell>-master-0`, …), behind `gateways` gateways that federate them all.
 * With `natsPerCell`, each cell has its own nats-server (`<cell>-nats-server`), the servers
 * joined by NATS gateways into a super-cluster. With `hosts`, a cell over that many network
 * namespaces (multi-host-cell.ts).
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
  if (options.hosts !== undefined) return startMultiHostCell({ ...options, hosts: options.hosts });
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
  prepareCellDir(dir, progress);
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
    gateway: `${options.tls === true ? "https" : "http"}://127.0.0.1:${gatewayPorts[0]!.http}`,
    dns: `127.0.0.1:${gatewayPorts[0]!.dns}`,
    nats: natsUrl(0),
    redis: `redis://127.0.0.1:${redisPorts[0]}`,
    metrics: [],
    startedAt: new Date().toISOString(),
    processes,
    admin: ensureAdminToken(dir, options.admin ?? DEFAULT_ADMIN),
    redisPasswordFile: ensureRedisPassword(dir),
    natsAuth: natsAuthOf(dir),
    leaderKey: ensureLeaderKey(dir),
    ...(options.tls === true ? { tls: ensureCellTls(dir, [LOOPBACK.address]) } : {}),
  };
  const signIn = { natsAuth: cell.natsAuth!, leaderKey: cell.leaderKey!, tls: cell.tls };
  if (federated) {
    cell.cells = cellNames.map((name, i) => ({ cell: name, redis: `redis://127.0.0.1:${redisPorts[i]}`, ...(natsPerCell ? { nats: natsUrl(i) } : {}) }));
  }
  if (federated || gatewayCount > 1) cell.gateways = gatewayPorts.map((ports) => `${options.tls === true ? "https" : "http"}://127.0.0.1:${ports.http}`);
  // Processes of a federation's cells carry the cell's name: `a-master-0`, `a-borglet-1`.
  const named = (cellName: string, name: string) => (federated ? `${cellName}-${name}` : name);
  const gatewayName = (i: number) => (gatewayCount === 1 ? "gateway" : `gateway-${i}`);
  // Every process's identity is in the servers' config before the first server starts.
  authorizeNatsClients(
    signIn.natsAuth,
    [
      ...cellNames.flatMap((cellName) => cellClients(cellName, options, (name) => named(cellName, name))),
      ...gatewayPorts.map((_, i) => ({ name: gatewayName(i), grant: { role: "gateway" as const, cells: cellNames } })),
      ...operatorClients(cellNames[0]!, cell.admin!.user),
    ],
    "replace",
  );
  const context: StartContext = { dir, processes, progress, track, natsSignIn: { authConfig: signIn.natsAuth.config, credentials: readNatsCredentials(natsCredentialsFile(signIn.natsAuth, OPERATOR_CLIENT)) }, tls: cell.tls };
  try {
    if (natsPerCell) await startSuperCluster(context, cellNames, natsPorts);
    else if (natsServers > 1) await startNatsCluster(context, cellNames[0]!, natsPorts.map((port) => ({ port, on: LOOPBACK })));
    else {
      progress(`nats-server on port ${natsPorts[0]}`);
      await startNatsServer({ dir: join(dir, "nats"), port: natsPorts[0]!, onSpawned: track, ...natsAuthOptions(context) });
    }
    let borglets = 0;
    const portRanges: [number, number][] = [];
    for (const [c, cellName] of cellNames.entries()) {
      const member = { cell: cellName, nats: natsUrl(c), redis: `redis://127.0.0.1:${redisPorts[c]}`, dir, redisPasswordFile: cell.redisPasswordFile, ...signIn };
      progress(`${federated ? `cell ${cellName}: ` : ""}redis-server on port ${redisPorts[c]}`);
      await startRedisServer({ dir: join(dir, federated ? `redis-${cellName}` : "redis"), port: redisPorts[c]!, durability: options.redisDurability ?? "everysec", name: named(cellName, "redis-server"), onSpawned: track, passwordFile: cell.redisPasswordFile!, tls: cell.tls });
      if (options.redisSentinels === true) {
        member.redis = await startSentinelGroup(context, cellName, { port: redisPorts[c]!, on: LOOPBACK }, options.redisDurability ?? "everysec", {}, cell.redisPasswordFile);
        cell.redis = member.redis;
      }
      borglets += await startCellServices(cell, member, options, track, named, portRanges);
    }
    if (natsPerCell) {
      // A stream lands in the NATS cluster of whoever creates it first. The gateways open every
      // cell's names bucket, so let each cell's leader create its own (in its cell's cluster) first.
      progress("waiting for each cell's leader to open its names bucket in its own NATS cluster");
      const died = () => processes.find((p) => !isSameProcessAlive(p))?.name;
      await Promise.all(cellNames.map((cellName, c) => waitForJetStream(natsUrl(c), { stream: `KV_${bnsBucket(cellName)}`, timeoutMs: 60_000, died, ...jetStreamWait(context) })));
    }
    for (const [i, ports] of gatewayPorts.entries()) {
      const name = gatewayName(i);
      const args = gatewayArgs(
        { cell: cellNames[0]!, nats: cell.nats, admin: cell.admin, ...signIn },
        { address: LOOPBACK.address, port: ports.http, dnsPort: ports.dns },
        { ...options, ...(federated ? { federation: { cells: cellNames, name } } : {}) },
        name,
      );
      track(launchService(dir, "gateway", name, [...args, ...metricsArgs(await metricsPortFor(cell))], options.form));
    }
    const masters = options.masters ?? 5;
    progress(
      `${federated ? `${cellNames.length} cells, each with ` : ""}${masters} masters, ${options.schedulers ?? 1} scheduler, ${federated ? borglets / cellNames.length : borglets} borglets; ${gatewayCount} gateway${gatewayCount === 1 ? "" : "s"} started; waiting until ready`,
    );
    await waitForMachinesUp(cell, processes, cellNames, borglets / cellNames.length);
    return cell;
  } catch (error) {
    await stopProcesses(processes, dir);
    rmSync(cellFilePath(dir), { force: true });
    releaseFromStarter(dir);
    throw error;
  }
}

/** One cell's masters, schedulers and borglets (real or hollow); returns how many machines it will have. */
async function startCellServices(
  file: CellFile,
  cell: { cell: string; nats: string; redis: string; dir: string } & CellSignIn,
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
    track(launchService(dir, "scheduler", name, [...schedulerArgs(cell, name), ...metricsArgs(await metricsPortFor(file))], options.form));
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
    const args = [...borgletArgs(cell, name, range, { ...options, hostShare, attributes: options.borgletAttributes?.(i) ?? { rack: `r${i}` }, runtimes: options.borgletRuntimes?.(i) }), ...metricsArgs(await metricsPortFor(file))];
    const borglet = launchService(dir, "borglet", name, args, options.form);
    // Its tasks bind these ports whenever they are placed, long after a `cell up` has exited.
    shareReservations(Array.from({ length: range[1] - range[0] + 1 }, (_, offset) => range[0] + offset), borglet);
    track(borglet);
  }
  return borglets;
}
