/**
 * A stand-in leader for the lease tests: takes the cell's lease on its own Redis
 * connection, prints the epoch it won, and holds on until killed.
 * Usage: hold-lease.ts REDIS_URL CELL TTL_MS
 */
import { connectRedis, createLogger, LeaderLease } from "@corral/kit";

const [url, cell, ttl] = process.argv.slice(2);
if (url === undefined || cell === undefined || ttl === undefined) throw new Error("usage: hold-lease.ts REDIS_URL CELL TTL_MS");
const redis = connectRedis(url, createLogger("test", cell));
const epoch = await new LeaderLease(redis, cell, "doomed", Number(ttl)).tryAcquire();
process.stdout.write(`${epoch}\n`);
setInterval(() => {}, 60_000);
