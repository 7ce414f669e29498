/**
 * The leader lease's renewals, in a worker thread of their own: a pause of the main
 * thread (a long garbage collection, a big batch) must not let a healthy leader's lease
 * lapse, or a short lease would depose it again and again. The worker renews only while
 * the main thread shows a pulse, so a leader that is truly stuck still loses the lease.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Redis } from "ioredis";
import { LeaderLease } from "./leader-lease.js";
import { LEASE_SLOTS, LeaseSlots, type LeaseKeeperOptions } from "./lease-keeper-slots.js";

const options = (workerData as { data: LeaseKeeperOptions }).data;
const slots = new LeaseSlots(options.slots);
const redis = new Redis(options.redisUrl, {
  maxRetriesPerRequest: null,
  commandTimeout: Math.floor(options.ttlMs / 3),
  retryStrategy: (attempt) => Math.min(50 * attempt, 500),
});
redis.on("error", () => {}); // a renewal that fails is reported through the slots, not here
const lease = new LeaderLease(redis, options.cell, options.candidate, options.ttlMs);
const interval = Math.max(10, Math.floor(options.ttlMs / 3));

async function renewOnce(): Promise<void> {
  const epoch = slots.get(LEASE_SLOTS.epoch);
  if (epoch <= 0) return;
  if (Date.now() - slots.get(LEASE_SLOTS.pulseAt) > options.stallToleranceMs) return; // the main thread is stuck: let the lease go
  const asked = Date.now(); // the lease runs from when it was asked for, not from the reply
  const renewed = await lease.renew(epoch).catch(() => undefined);
  if (slots.get(LEASE_SLOTS.epoch) !== epoch) return; // stepped down meanwhile
  if (renewed === true) slots.set(LEASE_SLOTS.renewedAt, asked);
  else if (renewed === false) slots.set(LEASE_SLOTS.lostEpoch, epoch);
}

let stopping = false;
parentPort?.on("message", (message: unknown) => {
  if (message === "stop") stopping = true;
});
parentPort?.postMessage("ready");
while (!stopping) {
  const started = Date.now();
  await renewOnce();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, interval - (Date.now() - started))));
}
redis.disconnect();
