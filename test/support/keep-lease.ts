/**
 * A leader's lease keeper in a process of its own, for the lease tests: takes the lease,
 * keeps it with a LeaseKeeper, and prints its count of renewals each time it grows.
 * Usage: keep-lease.ts REDIS_URL CELL TTL_MS STALL_TOLERANCE_MS
 */
import { connectRedis, createLogger, LeaderLease, LeaseKeeper } from "@corral/kit";

const [url, cell, ttl, tolerance] = process.argv.slice(2);
if (url === undefined || cell === undefined || ttl === undefined || tolerance === undefined) throw new Error("usage: keep-lease.ts REDIS_URL CELL TTL_MS STALL_TOLERANCE_MS");
const ttlMs = Number(ttl);
const alive = setInterval(() => {}, 60_000); // the keeper's worker is unref'd: this keeps the process up
const keeper = new LeaseKeeper({ redisUrl: url, cell, candidate: "kept", ttlMs, renewEveryMs: 100, stepDownAfterMs: Math.floor(ttlMs * 0.8), stallToleranceMs: Number(tolerance) });
await keeper.ready;
const asked = Date.now();
const epoch = await new LeaderLease(connectRedis(url, createLogger("test", cell)), cell, "kept", ttlMs).tryAcquire();
keeper.lead(epoch, asked);
process.stdout.write(`epoch ${epoch}\n`);
void alive;
let reported = 0;
setInterval(() => {
  if (keeper.renewals > reported) process.stdout.write(`renewals ${(reported = keeper.renewals)}\n`);
}, 20);
