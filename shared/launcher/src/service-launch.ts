// How the launcher starts Corral's own services: the node flags and entry of each form,
// and the command lines of masters and borglets.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { tasksRunAsStarter } from "./cell-binaries.js";
import type { CellAdmin, LeaderKeyFiles } from "./cell-secrets.js";
import { natsCredentialsFile, type NatsAuth } from "./nats-clients.js";
import type { CellTls } from "./cell-tls.js";
import type { CellFile } from "./cell-file.js";
import type { CellOptions } from "./cell-options.js";
import { freePort } from "./ports.js";
import { LOOPBACK, startDetached, type Placement, type StartedProcess } from "./processes.js";
import { loaderFlags, OWN_FORM, REPO_ROOT, type ServiceForm } from "./own-form.js";

export { REPO_ROOT, type ServiceForm } from "./own-form.js";

export type ServiceName = "master" | "scheduler" | "borglet" | "gateway";

export function serviceEntry(service: ServiceName, form: ServiceForm = OWN_FORM): string {
  return form === "source" ? join(REPO_ROOT, "services", service, "src", "main.ts") : join(REPO_ROOT, "services", service, "dist", "src", "main.js");
}

/** Starts one service process of a local cell. */
export function launchService(
  dir: string,
  service: ServiceName,
  name: string,
  args: readonly string[],
  form: ServiceForm = OWN_FORM,
  on: Placement = LOOPBACK,
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
    on,
  });
}

/** How a cell's services sign in: each its own NATS credentials, and the leader's key (masters) or its public half (borglets). */
export interface CellSignIn {
  natsAuth: NatsAuth;
  leaderKey: LeaderKeyFiles;
  /** the cell's TLS, when its NATS speaks it */
  tls?: CellTls | undefined;
}

function natsSignInArgs(cell: CellSignIn, name: string): string[] {
  return ["--nats-credentials", natsCredentialsFile(cell.natsAuth, name), ...(cell.tls === undefined ? [] : ["--tls-ca", cell.tls.ca])];
}

export function borgletArgs(
  cell: { cell: string; nats: string; dir: string } & CellSignIn,
  name: string,
  ports: readonly [number, number],
  options: Pick<CellOptions, "heartbeatMs" | "borgletCapacity" | "taskPidsMax"> & { attributes?: Record<string, string>; hostShare?: number; host?: string; runtimes?: string | undefined } = {},
): string[] {
  const args = [
    "--cell", cell.cell,
    "--nats", cell.nats,
    "--name", name,
    "--data-dir", join(cell.dir, "borglets", name),
    "--ports", `${ports[0]}-${ports[1]}`,
    "--binary-path", join(cell.dir, "bin"),
    "--heartbeat", `${options.heartbeatMs ?? 1000}ms`,
    ...natsSignInArgs(cell, name),
    "--leader-public-key-file", cell.leaderKey.publicKeyFile,
  ];
  const capacity = options.borgletCapacity ?? {};
  if (capacity.cpu !== undefined) args.push("--cpu", String(capacity.cpu));
  if (capacity.ram !== undefined) args.push("--ram", capacity.ram);
  if (capacity.disk !== undefined) args.push("--disk", capacity.disk);
  for (const [key, value] of Object.entries(options.attributes ?? {})) args.push("--attribute", `${key}=${value}`);
  if (options.hostShare !== undefined) args.push("--host-share", String(options.hostShare));
  if (options.taskPidsMax !== undefined) args.push("--task-pids-max", String(options.taskPidsMax));
  if (options.runtimes !== undefined) args.push("--runtimes", options.runtimes);
  // The address its tasks are reached at (the borglet's own default is loopback).
  if (options.host !== undefined) args.push("--host", options.host);
  // Started by someone other than root, or with its directory where others cannot pass (a
  // home directory), a borglet cannot run tasks as their owners' own uids, nor containers'
  // root as an unprivileged one: it says so in its log, and the launcher said so when the cell
  // started (tasksRunAsStarter).
  if (tasksRunAsStarter(cell.dir) !== undefined) args.push("--task-uids", "none", "--container-uids", "none");
  return args;
}

export function schedulerArgs(cell: { cell: string; nats: string } & CellSignIn, name: string): string[] {
  return ["--cell", cell.cell, "--nats", cell.nats, "--name", name, ...natsSignInArgs(cell, name)];
}

/** A gateway's API at `address`:`port` and DNS on `dnsPort`; with `cells`, it federates them. */
export function gatewayArgs(
  cell: { cell: string; nats: string; admin?: CellAdmin | undefined } & CellSignIn,
  listen: { address: string; port: number; dnsPort: number },
  options: Pick<CellOptions, "jsReplicas" | "natsServers" | "cellDownAfterMs" | "oidc"> & { federation?: { cells: readonly string[]; name: string } },
  name: string,
): string[] {
  return [
    ...natsSignInArgs(cell, name),
    ...(cell.tls === undefined ? [] : ["--tls-cert", cell.tls.cert, "--tls-key", cell.tls.key]),
    "--cell", cell.cell,
    "--nats", cell.nats,
    "--host", listen.address,
    "--port", String(listen.port),
    "--dns-port", String(listen.dnsPort),
    "--js-replicas", String(jsReplicasOf(options)),
    ...(options.federation === undefined ? [] : ["--cells", options.federation.cells.join(","), "--name", options.federation.name]),
    ...(options.cellDownAfterMs === undefined ? [] : ["--cell-down-after", `${options.cellDownAfterMs}ms`]),
    ...(cell.admin === undefined ? [] : ["--admin-user", cell.admin.user, "--admin-token-file", cell.admin.tokenFile]),
    ...(options.oidc === undefined ? [] : ["--oidc-issuer", options.oidc.issuer, "--oidc-audience", options.oidc.audience, ...(options.oidc.usernameClaim === undefined ? [] : ["--oidc-username-claim", options.oidc.usernameClaim])]),
  ];
}

/** Hollow borglet number `index` of a cell, simulating `machines` machines named hollow-<index>-<n>. */
export function startHollowBorglet(
  cell: { cell: string; nats: string; dir: string } & CellSignIn,
  index: number,
  machines: number,
  options: Pick<CellOptions, "heartbeatMs" | "form"> & { metricsPort?: number; name?: string; on?: Placement } = {},
): StartedProcess {
  const name = options.name ?? `hollow-${index}`;
  const on = options.on ?? LOOPBACK;
  // Hollow tasks bind nothing, so any port range will do.
  const args = [...borgletArgs(cell, name, [20000, 29999], { ...options, host: on.address }), "--hollow", String(machines), "--seed", String(index + 1)];
  if (options.metricsPort !== undefined) args.push(...metricsArgs(options.metricsPort, on.address));
  return launchService(cell.dir, "borglet", name, args, options.form, on);
}

/** A service's exporter at `port` on its own address (loopback, or its host's). */
export function metricsArgs(port: number, address = LOOPBACK.address): string[] {
  return ["--metrics-port", String(port), "--metrics-host", address];
}

/** A free port for the next service's /metrics, its URL recorded in the cell file. */
export async function metricsPortFor(cell: CellFile, address = LOOPBACK.address): Promise<number> {
  const port = await freePort();
  (cell.metrics ??= []).push(`http://${address}:${port}/metrics`);
  return port;
}

/** --js-replicas as the options ask, or as many copies as a cluster of their nats-servers can hold (at most 3). */
export function jsReplicasOf(options: Pick<CellOptions, "jsReplicas" | "natsServers">): number {
  return options.jsReplicas ?? Math.min(3, options.natsServers ?? 1);
}

export function masterArgs(cell: { cell: string; nats: string; redis: string; redisPasswordFile?: string | undefined } & CellSignIn, name: string, options: Pick<CellOptions, "downAfterMs" | "leaseTtlMs" | "checkpointEveryMs" | "quotaFile" | "reservationHalfLifeMs" | "jsReplicas" | "natsServers" | "redisSentinels">): string[] {
  return [
    "--cell", cell.cell,
    "--nats", cell.nats,
    "--redis", cell.redis,
    ...(cell.redisPasswordFile === undefined ? [] : ["--redis-password-file", cell.redisPasswordFile]),
    "--name", name,
    ...natsSignInArgs(cell, name),
    "--leader-key-file", cell.leaderKey.privateKeyFile,
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

