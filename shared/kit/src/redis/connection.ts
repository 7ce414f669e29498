import { Redis } from "ioredis";
import type { Logger } from "../logger.js";
import type { ConnectionMetrics } from "../metrics/connection-metrics.js";
import { newRedis, redactedRedisAddress, type RedisAccess } from "./redis-address.js";

export { Redis };

/** A connection that retries forever: Redis restarts must not end a service. */
export function connectRedis(address: string, log: Logger, options: { commandTimeoutMs?: number; metrics?: ConnectionMetrics } & RedisAccess = {}): Redis {
  const redis = newRedis(
    address, {
      maxRetriesPerRequest: null,
      // Without a timeout, commands queue for as long as Redis is away and callers hang with them.
      ...(options.commandTimeoutMs === undefined ? {} : { commandTimeout: options.commandTimeoutMs }),
      enableAutoPipelining: true,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
      lazyConnect: false,
    },
    { password: options.password, tlsCa: options.tlsCa },
  );
  return watchRedis(redis, log, options.metrics);
}

/**
 * Logs a connection's errors (changes only: ioredis repeats the same error on every retry)
 * and counts errors and lost connections. For `duplicate()`s too, which share no listeners.
 */
export function watchRedis(redis: Redis, log: Logger, metrics?: ConnectionMetrics): Redis {
  const counters = metrics?.redis;
  let lastError = "";
  let up = redis.status === "ready";
  redis.on("error", (error: Error) => {
    counters?.errors.inc();
    if (error.message !== lastError) log.warn({ err: error.message }, "redis error");
    lastError = error.message;
  });
  redis.on("ready", () => {
    lastError = "";
    up = true;
  });
  // "reconnecting" and not "close": a deliberate disconnect() at shutdown is no loss.
  redis.on("reconnecting", () => {
    if (up) counters?.disconnects.inc();
    up = false;
  });
  return redis;
}

/** A connection for a one-shot command-line tool: one attempt, and a clear error when Redis is not there. */
export async function connectRedisOnce(url: string, options: { timeoutMs?: number } & RedisAccess = {}): Promise<Redis> {
  const redis = newRedis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: options.timeoutMs ?? 3000, retryStrategy: () => null }, { password: options.password, tlsCa: options.tlsCa });
  redis.on("error", () => {}); // the failed connect below reports it
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new Error(`cannot reach Redis at ${redactedRedisAddress(url)}: ${(error as Error).message}`);
  }
}
