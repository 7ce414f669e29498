import { z } from "zod";
import { cellNameSchema, nodeNameSchema } from "@corral/contracts";
import {
  connectNats,
  connectRedis,
  ChangeLogReader,
  createLogger,
  exitOnUncaught,
  FencedStore,
  LeaderLease,
  loadFlags,
  onShutdown,
  parsedFlag,
  sleep,
} from "@corral/kit";
import { parseDuration } from "@corral/spec";
import { StateFollower } from "./follower.js";
import { LeaderTerm } from "./leader.js";

const flags = loadFlags(
  "corral-master",
  process.argv.slice(2),
  {
    cell: { type: "string", default: "local" },
    nats: { type: "string", default: "nats://127.0.0.1:4222" },
    redis: { type: "string", default: "redis://127.0.0.1:6379" },
    name: { type: "string", default: "master-0" },
    "down-after": { type: "string", default: "5s" },
    "lease-ttl": { type: "string", default: "3s" },
  },
  z.object({
    cell: cellNameSchema,
    nats: z.string().min(1),
    redis: z.string().url("a redis:// URL"),
    name: nodeNameSchema,
    downAfter: parsedFlag(parseDuration),
    leaseTtl: parsedFlag(parseDuration).refine((ms) => ms >= 300, "at least 300ms"),
  }),
);

const log = createLogger("master", flags.cell, { replica: flags.name });
exitOnUncaught(log);
const nc = await connectNats(flags.nats, `${flags.name}@${flags.cell}`, log);
const redis = connectRedis(flags.redis, log, { commandTimeoutMs: Math.max(1000, flags.leaseTtl) });
const store = new FencedStore(redis, flags.cell);
const logReader = new ChangeLogReader(redis.duplicate(), flags.cell);
const lease = new LeaderLease(redis, flags.cell, flags.name, flags.leaseTtl);

let term: LeaderTerm | undefined;
let follower: StateFollower | undefined;
let epoch = 0;
let renewedAt = 0;
let stopping = false;

/** A standby follows the change log and answers read-only queries until it leads. */
async function startFollowing(): Promise<StateFollower> {
  const started = new StateFollower(store, logReader, log);
  await started.start();
  started.serveReads(nc, flags.cell, flags.name);
  return started;
}

function stepDown(why: string): void {
  if (term === undefined) return;
  log.warn({ epoch, why }, "stepping down");
  term.stop();
  term = undefined;
  epoch = 0;
}

/**
 * The election loop: standbys try to take the lease every third of its time to live; the
 * leader renews it as often and stops acting as soon as it can no longer be sure it holds
 * it (a renewal refused, or none succeeded for most of the TTL).
 */
async function electionLoop(): Promise<void> {
  const interval = Math.floor(flags.leaseTtl / 3);
  while (!stopping) {
    try {
      if (term === undefined) {
        follower ??= await startFollowing();
        const asked = Date.now(); // the lease runs from when it was asked for, not from the reply
        const won = await lease.tryAcquire();
        if (won > 0) {
          epoch = won;
          renewedAt = asked;
          // The epoch is ours now, so no older leader can add to the log: read it to its end.
          const following = follower;
          follower = undefined;
          const initialState = await following.catchUpAndStop().catch((error: unknown) => {
            log.warn({ err: (error as Error).message }, "could not catch up from the change log; loading the state instead");
            return undefined;
          });
          const starting = new LeaderTerm({
            cell: flags.cell,
            name: flags.name,
            epoch: won,
            nc,
            store,
            log: log.child({ epoch: won }),
            downAfterMs: flags.downAfter,
            ...(initialState === undefined ? {} : { initialState }),
            // Only this term may end itself: a late refusal of an older term must not end a newer one.
            onDeposed: (error) => {
              if (term === starting) stepDown(error.message);
            },
          });
          term = starting;
          try {
            await starting.start();
          } catch (error) {
            if (term === starting) stepDown(`could not start leading: ${(error as Error).message}`);
          }
        }
      } else {
        const started = Date.now();
        const leading = epoch;
        const renewed = await withTimeout(lease.renew(leading), interval);
        if (renewed === true && epoch === leading) renewedAt = started;
        else if (renewed === false) stepDown("lease lost");
      }
    } catch (error) {
      log.warn({ err: (error as Error).message }, "election step failed");
    }
    await sleep(interval);
  }
}

/** undefined when the promise did not settle in time (Redis unreachable): the caller must not wait on it. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([promise, sleep(ms).then(() => undefined)]);
}

// Checked on its own timer, not after a Redis call that may hang: a leader that cannot be sure
// it still holds the lease stops acting before the lease can expire and another master win.
const freshnessCheck = setInterval(() => {
  if (term !== undefined && Date.now() - renewedAt > flags.leaseTtl * 0.8) stepDown("could not renew the lease in time");
}, Math.max(20, Math.floor(flags.leaseTtl / 20)));

onShutdown(log, async () => {
  stopping = true;
  clearInterval(freshnessCheck);
  const leading = epoch;
  stepDown("shutting down");
  if (leading > 0) await lease.release(leading).catch(() => {});
  await nc.drain().catch(() => {});
  redis.disconnect();
});

log.info({ nats: flags.nats, redis: flags.redis }, "master started");
void electionLoop();
