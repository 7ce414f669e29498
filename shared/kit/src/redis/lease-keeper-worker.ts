/**
 * The leader lease's renewals, in a worker thread of their own: a pause of the main
 * thread (a long garbage collection, a big batch) must not let a healthy leader's lease
 * lapse. The worker renews only while the main thread shows a pulse, so a leader that is
 * truly stuck still loses the lease.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Redis } from "ioredis";
import { LeaderLease } from "./leader-lease.js";
import { LEASE_SLOTS, LeaseSlots, type LeaseKeeperOptions } from "./lease-keeper-slots.js";

const options = (workerData as { data: LeaseKeeperOptions }).data;
const slots = new LeaseSlots(options.slots);
const redis = new Redis(options.redisUrl, {
  maxRetriesPerRequest: null,
  // A reply later than the step-down deadline is worth nothing: give up and ask again.
  commandTimeout: Math.max(100, Math.floor(options.stepDownAfterMs / 2)),
  retryStrategy: (attempt) => Math.min(50 * attempt, 500),
});
redis.on("error", () => {}); // a renewal that fails is reported through the slots, not here
const lease = new LeaderLease(redis, options.cell, options.candidate, options.ttlMs);

async function renewOnce(): Promise<void> {
  const epoch = slots.get(LEASE_SLOTS.epoch);
  if (epoch <= 0) return;
  if (Date.now() - slots.get(LEASE_SLOTS.pulseAt) > options.stallToleranceMs) return; // the main thread is stuck: let the lease go
  const asked = Date.now(); // the lease runs from when it was asked for, not from the reply
  const renewed = await lease.renew(epoch).catch(() => undefined);
  if (slots.get(LEASE_SLOTS.epoch) !== epoch) return; // stepped down meanwhile
  if (renewed === true) {
    const slack = slots.get(LEASE_SLOTS.renewedAt) + options.stepDownAfterMs - Date.now();
    if (slack < slots.get(LEASE_SLOTS.minSlackMs)) slots.set(LEASE_SLOTS.minSlackMs, slack);
    slots.set(LEASE_SLOTS.renewedAt, asked);
    slots.set(LEASE_SLOTS.renewals, slots.get(LEASE_SLOTS.renewals) + 1);
  } else if (renewed === false) slots.set(LEASE_SLOTS.lostEpoch, epoch);
}

let stopping = false;
let wake: (() => void) | undefined;
parentPort?.on("message", (message: unknown) => {
  if (message === "stop") stopping = true;
  wake?.(); // "lead": renew at once, so the lease records this worker's connection
});
parentPort?.postMessage("ready");
while (!stopping) {
  const started = Date.now();
  await renewOnce();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, options.renewEveryMs - (Date.now() - started)));
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  wake = undefined;
}
redis.disconnect();
