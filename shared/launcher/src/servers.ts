import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { readSecretFile, REDIS_USER, signInOptions, type NatsCredentials } from "@corral/kit";
import { requireExecutable } from "./executables.js";
import type { CellTls } from "./cell-tls.js";
import { LOOPBACK, startDetached, tcpAnswers, waitUntil, type Placement, type StartedProcess } from "./processes.js";

export interface ServerOptions {
  /** data and log directory, created if missing */
  dir: string;
  port: number;
  /** the process's name in the cell file (several redis-servers or nats-servers in a federation need their own) */
  name?: string;
  /**
   * Called as soon as the process exists, before it answers: a cell records it at once, so
   * a starter killed while the server loads still leaves it findable for teardown.
   */
  onSpawned?: (started: StartedProcess) => void;
  /** where it runs and listens; default this machine's loopback */
  on?: Placement;
}

/** One cluster of a NATS super-cluster, as every server's gateway block lists it. */
export interface NatsGatewayRemote {
  /** the cluster's name (in a corral federation, the cell's) */
  name: string;
  /** its servers' gateway listeners, nats://host:port */
  urls: string[];
}

/**
 * This server's place in a NATS super-cluster: its own cluster (one or more servers joined
 * by routes) and the gateways that join that cluster to the others.
 */
export interface NatsSuperClusterOptions {
  /** the server's cluster, also its gateway name (nats-server requires the two to be equal) */
  cluster: string;
  /** where this server listens for routes from its cluster's other servers */
  routePort: number;
  /** route URLs of its cluster's servers; default: itself (JetStream wants a configured route even in a one-server cluster) */
  routes?: string[];
  /** where this server listens for gateway connections from other clusters; none: a lone cluster */
  gatewayPort?: number;
  /** every cluster of the super-cluster, its own included (a server ignores the entry naming itself) */
  gateways?: NatsGatewayRemote[];
}

export interface NatsServerOptions extends ServerOptions {
  /** the server's name (JetStream's peer identity: unique in the super-cluster, the same across restarts); default corral-<port> */
  serverName?: string;
  /** a member of a super-cluster (cluster and gateway blocks); default: a lone server */
  superCluster?: NatsSuperClusterOptions;
  /** the cell's authorization config (nats-clients.ts): only the clients it lists may connect. None: anyone may */
  authConfig?: string;
  /** the cell's TLS (cell-tls.ts): clients, routes and gateways all speak TLS. None: plain */
  tls?: CellTls;
}

/** A nats.conf string value: quoted, so names and URLs never clash with the config syntax. */
const quoted = (value: string) => JSON.stringify(value);

/**
 * The configuration file of a corral nats-server. Port, address, JetStream and the store
 * directory are given as flags (so `restartProcess` finds the port); the file carries what
 * has no flag: the payload limit and, in a super-cluster, the cluster and gateway blocks.
 * deploy/nats/ holds the same blocks for servers on separate hosts, with the reasons.
 */
export function natsServerConfig(options: { host?: string; serverName?: string; superCluster?: NatsSuperClusterOptions; authInclude?: string; tls?: CellTls } = {}): string {
  const host = options.host ?? "127.0.0.1";
  const lines = [
    "# Written by corral's local launcher (shared/launcher/src/servers.ts); rewritten at every start.",
    "# A large cell's work snapshot and machine list exceed the 1 MB default payload.",
    "max_payload: 8MB",
  ];
  // In the file, not a flag: a reload (SIGHUP) refuses a config whose server name differs from the running one's.
  if (options.serverName !== undefined) lines.push(`server_name: ${quoted(options.serverName)}`);
  if (options.authInclude !== undefined) {
    lines.push(
      "",
      "# Who may connect and what each may do: the cell's clients by NKey. A reload (SIGHUP)",
      "# reads it again, so clients are added while the server runs.",
      `include ${quoted(options.authInclude)}`,
    );
  }
  // A handshake on a busy machine takes longer than nats-server's default half second.
  const tlsBlock = (indent: string, verify: boolean) =>
    options.tls === undefined
      ? []
      : [
          `${indent}tls {`,
          `${indent}  cert_file: ${quoted(options.tls.cert)}`,
          `${indent}  key_file: ${quoted(options.tls.key)}`,
          `${indent}  ca_file: ${quoted(options.tls.ca)}`,
          ...(verify ? [`${indent}  verify: true`] : []),
          `${indent}  timeout: 10`,
          `${indent}}`,
        ];
  if (options.tls !== undefined) lines.push("", "# Clients speak TLS: the cell's CA signed this server's certificate.", ...tlsBlock("", false));
  const sc = options.superCluster;
  if (sc !== undefined) {
    const self = `nats://${host}:${sc.routePort}`;
    lines.push(
      "",
      "# This server's cluster. JetStream in a super-cluster needs a named cluster with configured",
      "# routes, even when the cluster is this one server (it routes to itself; the self-route is ignored).",
      "cluster {",
      `  name: ${quoted(sc.cluster)}`,
      `  listen: ${quoted(`${host}:${sc.routePort}`)}`,
      `  routes: [${(sc.routes ?? [self]).map(quoted).join(", ")}]`,
      // Routes, as gateways below, prove themselves both ways with the cell's certificate.
      ...tlsBlock("  ", true),
      "}",
    );
  }
  if (sc?.gatewayPort !== undefined && sc.gateways !== undefined) {
    lines.push(
      "",
      "# Gateways join the clusters into one super-cluster: one subject space and one JetStream",
      "# meta group; each stream stays in the cluster that created it. The gateway's name must be",
      "# the cluster's name.",
      "gateway {",
      `  name: ${quoted(sc.cluster)}`,
      `  listen: ${quoted(`${host}:${sc.gatewayPort}`)}`,
      "  gateways: [",
      ...sc.gateways.map((remote) => `    { name: ${quoted(remote.name)}, urls: [${remote.urls.map(quoted).join(", ")}] }`),
      "  ]",
      ...tlsBlock("  ", true),
      "}",
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * nats-server with JetStream, its store under `dir/jetstream`; returns once it takes
 * clients. A member of a super-cluster takes clients before its JetStream has a meta
 * leader: wait for that with `waitForJetStream`.
 */
export async function startNatsServer(options: NatsServerOptions): Promise<StartedProcess> {
  const binary = requireExecutable("nats-server");
  mkdirSync(join(options.dir, "jetstream"), { recursive: true });
  const config = join(options.dir, "nats-server.conf");
  const on = options.on ?? LOOPBACK;
  writeFileSync(
    config,
    natsServerConfig({
      host: on.address,
      serverName: options.serverName ?? `corral-${options.port}`,
      ...(options.superCluster === undefined ? {} : { superCluster: options.superCluster }),
      // nats-server resolves an include against the including file's directory, even an absolute path
      ...(options.authConfig === undefined ? {} : { authInclude: relative(options.dir, options.authConfig) }),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
    }),
  );
  const started = startDetached(
    "nats",
    options.name ?? "nats-server",
    binary,
    ["-c", config, "-a", on.address, "-p", String(options.port), "-js", "-sd", join(options.dir, "jetstream")],
    { log: join(options.dir, "nats-server.log"), on },
  );
  options.onSpawned?.(started);
  await waitUntil(`nats-server on ${on.address}:${options.port}`, () => tcpAnswers(options.port, { send: "PING\r\n", expect: "INFO" }, on.address), 15_000);
  return started;
}

/**
 * Waits until JetStream answers through the server at `url`: in a super-cluster, until its
 * meta group has a leader (which needs a majority of all servers: with three clusters of
 * one server, two). With `stream`, also until that stream exists.
 */
export async function waitForJetStream(
  url: string,
  options: {
    timeoutMs?: number;
    stream?: string;
    /** the name of a process whose death ends the wait at once (it will not get ready) */
    died?: () => string | undefined;
    /** how to sign in, where the servers require it */
    credentials?: NatsCredentials;
    /** the CA the servers' certificates are checked against, where they speak TLS */
    tlsCa?: string;
  } = {},
): Promise<void> {
  // A first dial that a loaded machine answers late is tried again, within the wait's own limit.
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const connecting = connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true, ...signInOptions(options) });
  const nc = await Promise.race([
    connecting,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        // A connection that comes after all is closed, not left retrying.
        void connecting.then((late) => late.close()).catch(() => {});
        reject(new Error(`timed out after ${timeoutMs} ms connecting to ${url}`));
      }, timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  try {
    const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 1000 });
    const what = options.stream === undefined ? `JetStream at ${url} (a meta leader elected)` : `stream ${options.stream} at ${url}`;
    await waitUntil(
      what,
      async () => {
        const dead = options.died?.();
        if (dead !== undefined) throw new Error(`${dead} exited while waiting for ${what}; see its log`);
        try {
          if (options.stream === undefined) await jsm.getAccountInfo();
          else await jsm.streams.info(options.stream);
          return true;
        } catch {
          return false;
        }
      },
      timeoutMs,
      200,
    );
  } finally {
    await nc.close().catch(() => {});
  }
}

export type RedisDurability = "everysec" | "always" | "none";

/** redis-server with an append-only file (docs/architecture.md § What is stored: nothing acknowledged is lost). */
/**
 * A Redis server's or Sentinel's TLS: it listens only with TLS on its port, presents the
 * cell's certificate, and speaks TLS to the servers it replicates from or watches. Clients
 * need not present certificates (the password is their proof); they check the server's.
 */
function redisTlsArgs(tls: CellTls | undefined, port: number): string[] {
  if (tls === undefined) return ["--port", String(port)];
  return ["--port", "0", "--tls-port", String(port), "--tls-cert-file", tls.cert, "--tls-key-file", tls.key, "--tls-ca-cert-file", tls.ca, "--tls-auth-clients", "no", "--tls-replication", "yes"];
}

export async function startRedisServer(options: ServerOptions & { durability?: RedisDurability; replicaOf?: { address: string; port: number }; passwordFile?: string; tls?: CellTls | undefined }): Promise<StartedProcess> {
  const binary = requireExecutable("redis-server");
  mkdirSync(options.dir, { recursive: true });
  const password = options.passwordFile === undefined ? undefined : readSecretFile(options.passwordFile, "the Redis password file");
  // The password goes in a config file of the server's own (mode 600), never on its command
  // line. Corral's clients sign in as the cell's ACL user, and a replica replicates as it too.
  // The default user keeps the same password rather than being switched off: Redis 7.0 (Debian
  // 12's) replays MULTI/EXEC from its AOF as the default user, and with it off drops them with
  // NOPERM on restart, losing acknowledged writes (test/durability.test.ts found it).
  const config = password === undefined ? [] : [writeRedisAuthConfig(options.dir, [`user default on >${password} ~* &* +@all`, `user ${REDIS_USER} on >${password} ~* &* +@all`, `masteruser ${REDIS_USER}`, `masterauth ${password}`])];
  const durability = options.durability ?? "everysec";
  const on = options.on ?? LOOPBACK;
  const aof = durability === "none" ? ["--appendonly", "no"] : ["--appendonly", "yes", "--appendfsync", durability];
  const started = startDetached(
    "redis",
    options.name ?? "redis-server",
    binary,
    [
      ...config,
      ...redisTlsArgs(options.tls, options.port),
      "--bind", on.address,
      "--dir", options.dir,
      "--save", "",
      ...aof,
      "--daemonize", "no",
      "--protected-mode", "no",
      "--logfile", join(options.dir, "redis-server.log"),
      ...(options.replicaOf === undefined ? [] : ["--replicaof", options.replicaOf.address, String(options.replicaOf.port)]),
    ],
    { log: join(options.dir, "redis-server.out"), on },
  );
  options.onSpawned?.(started);
  // PONG only once the AOF is loaded; during loading Redis answers -LOADING.
  await waitUntil(`redis-server on ${on.address}:${options.port}`, () => tcpAnswers(options.port, redisProbe(password), on.address, options.tls?.ca), 15_000);
  return started;
}

const AUTH_CONFIG = "auth.conf";

function writeRedisAuthConfig(dir: string, lines: string[]): string {
  const path = join(dir, AUTH_CONFIG);
  writeFileSync(path, `${lines.join("\n")}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/**
 * PONG once Redis answers and has loaded its data (while loading it says -LOADING), after AUTH
 * when it has a password: as the cell's ACL user on a server, with the password alone on a
 * Sentinel (whose clients sign in as its default user).
 */
function redisProbe(password: string | undefined, as: "server" | "sentinel" = "server"): { send: string; expect: string } {
  const auth = password === undefined ? "" : as === "server" ? `AUTH ${REDIS_USER} ${password}\r\n` : `AUTH ${password}\r\n`;
  return { send: `${auth}PING\r\n`, expect: "+PONG" };
}

/**
 * How to tell a redis-server started by startRedisServer answers again after a restart: its
 * port (the TLS one, when it has one), its password (in its own config), and the CA its
 * certificate is checked against.
 */
export function redisProbeFor(args: readonly string[]): { port: number; probe: { send: string; expect: string }; tlsCa?: string } {
  const config = args[0]?.endsWith(`/${AUTH_CONFIG}`) === true ? args[0] : undefined;
  const password = config === undefined ? undefined : new RegExp(`^user ${REDIS_USER} on >(\\S+) `, "m").exec(readFileSync(config, "utf8"))?.[1];
  const valueOf = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
  const tlsPort = valueOf("--tls-port");
  const tlsCa = valueOf("--tls-ca-cert-file");
  return { port: Number(tlsPort ?? valueOf("--port")), probe: redisProbe(password), ...(tlsCa === undefined ? {} : { tlsCa }) };
}

/**
 * A Redis Sentinel (redis-server in sentinel mode) watching the primary at `primary`
 * as master group `group`: with its peers (a quorum of 2 of 3), it promotes the replica when
 * the primary has not answered for a second.
 */
export async function startRedisSentinel(options: ServerOptions & { primary: { address: string; port: number }; group: string; quorum: number; passwordFile?: string; tls?: CellTls | undefined }): Promise<StartedProcess> {
  const binary = requireExecutable("redis-server");
  const on = options.on ?? LOOPBACK;
  mkdirSync(options.dir, { recursive: true });
  const config = join(options.dir, "sentinel.conf");
  const password = options.passwordFile === undefined ? undefined : readSecretFile(options.passwordFile, "the Redis password file");
  // With a password, the Sentinel asks it of its clients and of its peers, and gives it to the servers it watches.
  const auth = password === undefined ? [] : [`requirepass ${password}`, `sentinel sentinel-pass ${password}`];
  const groupAuth = password === undefined ? [] : [`sentinel auth-user ${options.group} ${REDIS_USER}`, `sentinel auth-pass ${options.group} ${password}`];
  // Sentinel rewrites this file as it learns the group's members: it must be its own (and, holding the password, its owner's alone).
  writeFileSync(
    config,
    [
      // With TLS, the port takes only TLS, and the Sentinel speaks TLS to the servers and its peers.
      ...(options.tls === undefined
        ? [`port ${options.port}`]
        : ["port 0", `tls-port ${options.port}`, `tls-cert-file ${options.tls.cert}`, `tls-key-file ${options.tls.key}`, `tls-ca-cert-file ${options.tls.ca}`, "tls-auth-clients no", "tls-replication yes"]),
      `bind ${on.address}`,
      "protected-mode no",
      `dir ${options.dir}`,
      `logfile ${join(options.dir, "sentinel.log")}`,
      `sentinel monitor ${options.group} ${options.primary.address} ${options.primary.port} ${options.quorum}`,
      `sentinel down-after-milliseconds ${options.group} 1000`,
      `sentinel failover-timeout ${options.group} 5000`,
      `sentinel parallel-syncs ${options.group} 1`,
      ...auth,
      ...groupAuth,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  chmodSync(config, 0o600);
  const started = startDetached("redis", options.name ?? "redis-sentinel", binary, [config, "--sentinel"], { log: join(options.dir, "sentinel.out"), on });
  options.onSpawned?.(started);
  await waitUntil(`redis sentinel on ${on.address}:${options.port}`, () => tcpAnswers(options.port, redisProbe(password, "sentinel"), on.address, options.tls?.ca), 15_000);
  return started;
}
