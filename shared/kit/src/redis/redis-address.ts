import { readFileSync } from "node:fs";
// Where a cell's Redis is: one server (redis://host:port[/db]) or a Sentinel-watched group
// (sentinel://h1:26379,h2:26379,h3:26379/NAME), which ioredis follows through a promotion.
import { Redis, type RedisOptions } from "ioredis";

export type RedisAddress =
  | { kind: "server"; url: string }
  | { kind: "sentinel"; sentinels: { host: string; port: number }[]; name: string; db: number; password?: string };

const SENTINEL_EXAMPLE = "sentinel://h1:26379,h2:26379,h3:26379/corral";

/** Reads --redis; a bad address is an error that shows the form expected. */
export function parseRedisAddress(text: string): RedisAddress {
  const trimmed = text.trim();
  if (/^rediss?:\/\//.test(trimmed)) {
    let host = "";
    try {
      host = new URL(trimmed).hostname;
    } catch {
      // reported below
    }
    if (host === "") throw new Error(`'${text}' is not a redis:// URL with a host, e.g. redis://127.0.0.1:6379`);
    return { kind: "server", url: trimmed };
  }
  const sentinel = /^sentinel:\/\/(?:(?<password>[^@/]*)@)?(?<hosts>[^/]*)(?:\/(?<name>[^/?]*))?(?:\?db=(?<db>\d+))?$/.exec(trimmed);
  if (sentinel?.groups === undefined) throw new Error(`'${text}' is neither a redis:// URL nor a Sentinel address like ${SENTINEL_EXAMPLE}`);
  const { password, hosts = "", name, db } = sentinel.groups;
  if (name === undefined || name === "") throw new Error(`'${text}' names no master group: Sentinel watches primaries by name; add it after a slash, like ${SENTINEL_EXAMPLE}`);
  const sentinels = hosts.split(",").map((hostPort) => {
    const match = /^(?<host>[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(?<port>\d{1,5})$/.exec(hostPort.trim());
    const port = Number(match?.groups?.["port"]);
    if (match?.groups === undefined || port < 1 || port > 65535) throw new Error(`'${hostPort}' in '${text}' is not host:port; list every sentinel, like ${SENTINEL_EXAMPLE}`);
    return { host: match.groups["host"]!.replace(/^\[|\]$/g, ""), port };
  });
  return { kind: "sentinel", sentinels, name, db: db === undefined ? 0 : Number(db), ...(password === undefined || password === "" ? {} : { password: decodeURIComponent(password) }) };
}

/**
 * A connection through Sentinel that only ends when it is told to. ioredis ends one for good
 * when its failover detector hears +switch-master while the connection is between attempts
 * of asking a Sentinel where the primary is (the attempt is cut short as "Connection is
 * closed", and a failed connect ends the connection): exactly what happens when a primary
 * dies on a busy machine. This one starts again instead.
 */
class SentinelFollowingRedis extends Redis {
  private closing = false;

  constructor(options: RedisOptions) {
    super(options);
    this.on("end", () => {
      if (this.closing) return;
      setTimeout(() => {
        if (!this.closing && this.status === "end") this.connect().catch(() => {});
      }, 100);
    });
  }

  override disconnect(reconnect = false): void {
    if (!reconnect) this.closing = true;
    super.disconnect(reconnect);
  }

  override quit(callback?: (error?: Error | null, result?: "OK") => void): Promise<"OK"> {
    this.closing = true;
    return super.quit(callback);
  }

  override duplicate(override?: Partial<RedisOptions>): Redis {
    return new SentinelFollowingRedis({ ...this.options, ...override });
  }
}

/**
 * The ACL user Corral's clients sign in to Redis as, with the cell's password (which Redis's
 * `default` user asks too: launcher's startRedisServer says why it is not switched off).
 */
export const REDIS_USER = "corral";

/** How a client gets into the cell's Redis: its password, and the CA its servers' certificates are signed by when they speak TLS. */
export interface RedisAccess {
  password?: string | undefined;
  /** the CA certificate file; given, every connection (to servers and Sentinels) is TLS */
  tlsCa?: string | undefined;
}

/**
 * A connection to the address's primary, with the options given; through a Sentinel, it
 * follows a promotion. The password (read from a file, never a flag) is the servers' and the
 * Sentinels' own; one in the address itself still works.
 */
export function newRedis(text: string, options: RedisOptions, access: RedisAccess = {}): Redis {
  const address = parseRedisAddress(text);
  const { password } = access;
  const auth = password === undefined ? {} : { username: REDIS_USER, password };
  const tls = access.tlsCa === undefined ? undefined : { ca: readFileSync(access.tlsCa, "utf8") };
  if (address.kind === "server") return new Redis(address.url, { ...options, ...auth, ...(tls === undefined ? {} : { tls }) });
  return new SentinelFollowingRedis({
    ...options,
    // The servers know the ACL user; a Sentinel asks its own clients the password alone.
    ...(password === undefined ? {} : { username: REDIS_USER, password, sentinelPassword: password }),
    // TLS to the Sentinels and to the primary they name alike.
    ...(tls === undefined ? {} : { tls, sentinelTLS: tls, enableTLSForSentinelMode: true }),
    sentinels: address.sentinels,
    name: address.name,
    db: address.db,
    role: "master",
    // A primary cut off the network (not killed) never closes our connection: it would hang
    // until a command timed out. Listening for the Sentinels' +switch-master drops it at once.
    failoverDetector: true,
    // A connection made to a primary just before it is demoted (a lagging Sentinel still named
    // it, or it came back as a primary for a moment before Sentinel made it a replica) misses
    // the +switch-master and would get READONLY for good: reconnecting asks the Sentinels again.
    // The failed command is not resent; its caller sees the error and retries as it would.
    reconnectOnError: (error) => /^READONLY/.test(error.message),
    ...(address.password === undefined ? {} : { password: address.password }),
  });
}

/** The address as logs may show it: a password in it is replaced by `***`. */
export function redactedRedisAddress(text: string): string {
  return text.replace(/^(rediss?:\/\/[^:/@]*:)[^@/]*@/, "$1***@").replace(/^(sentinel:\/\/)[^@/]*@/, "$1***@");
}
