import { Redis } from "ioredis";
import type { Logger } from "../logger.js";

export { Redis };

/** A connection that retries forever: Redis restarts must not end a service. */
export function connectRedis(url: string, log: Logger, options: { commandTimeoutMs?: number } = {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    // Without a timeout, commands queue for as long as Redis is away and callers hang with them.
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeout: options.commandTimeoutMs }),
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
    lazyConnect: false,
  });
  let lastError = "";
  redis.on("error", (error: Error) => {
    // ioredis repeats the same error on every retry; log changes only.
    if (error.message !== lastError) log.warn({ err: error.message }, "redis error");
    lastError = error.message;
  });
  redis.on("ready", () => {
    lastError = "";
  });
  return redis;
}
