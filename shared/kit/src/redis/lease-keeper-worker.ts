/**
 * The leader lease's renewals, in a worker thread of their own: a pause of the main
 * thread (a long garbage collection, a big batch) must not let a healthy leader's lease
 * lapse. The worker renews only while the main thread shows a pulse, so a leader that is
 * truly stuck still loses the lease. A main thread that is merely starved of cpu (a busy
 * machine delays every thread alike) is not stuck: the time this worker itself was held
 * up past its own timers is not counted against the main thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { LeaderLease } from "./leader-lease.js";
import { newRedis } from "./redis-address.js";
import { LEASE_SLOTS, LeaseSlots, type LeaseKeeperOptions } from "./lease-keeper-slots.js";

const options = (workerData as { data: LeaseKeeperOptions }).data;
const slots = new LeaseSlots(options.slots);
const redis = newRedis(
  options.redisUrl, {
    maxRetriesPerRequest: null,
    // A reply later than the step-down deadline is worth nothing: give up and ask again.
    commandTimeout: Math.max(100, Math.floor(options.stepDownAfterMs / 2)),
    retryStrategy: (attempt) => Math.min(50 * attempt, 500),
  },
  { password: options.redisPassword, tlsCa: options.redisTlsCa },
);
redis.on("error", () => {}); // a renewal that fails is reported through the slots, not here
const lease = new LeaderLease(redis, options.cell, options.candidate, options.ttlMs);

/** When this worker woke later than its timer asked, and by how much (ms): the machine's stalls, as this thread saw them. */
const lateWakes: { at: number; lateMs: number }[] = [];

/** How long the main thread has shown no pulse for reasons of its own: its silence less the stalls this thread also suffered. */
function mainThreadStallMs(now: number): number {
  const pulseAt = slots.get(LEASE_SLOTS.pulseAt);
  while (lateWakes.length > 0 && lateWakes[0]!.at < pulseAt) lateWakes.shift();
  const sharedStallMs = lateWakes.reduce((sum, wake) => sum + wake.lateMs, 0);
  return now - pulseAt - sharedStallMs;
}

async function renewOnce(): Promise<void> {
  const epoch = slots.get(LEASE_SLOTS.epoch);
  if (epoch <= 0) return;
  if (mainThreadStallMs(Date.now()) > options.stallToleranceMs) return; // the main thread is stuck: let the lease go
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
  const due = Date.now() + Math.max(0, options.renewEveryMs - (Date.now() - started));
  const woken = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), due - Date.now());
    wake = () => {
      clearTimeout(timer);
      resolve(true);
    };
  });
  wake = undefined;
  const lateMs = Date.now() - due;
  // Only lateness past a timer counts; a pulse is due every tenth of the tolerance, so small delays are noise.
  if (!woken && lateMs > 50) lateWakes.push({ at: Date.now(), lateMs });
}
redis.disconnect();
