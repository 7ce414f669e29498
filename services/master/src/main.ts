import { z } from "zod";
import { CorralError } from "@corral/contracts";
import { connectRedis, fromFlag, LeaderSigner, parseRedisAddress, redactedRedisAddress, secretFromFlag, ChangeLogReader, CheckpointStore, FencedStore, flag, jsReplicasFlag, LeaderLease, LeaseKeeper, parsedFlag, startService, watchRedis } from "@corral/kit";
import { parseDuration } from "@corral/spec";
import { READABLE_RECORDS_VERSIONS, RECORDS_VERSION } from "@corral/state";
import { POLICIES } from "@corral/scheduling";
import { Election } from "./election/election.js";
import { StateFollower } from "./standby/follower.js";
import { CheckpointTurns } from "./standby/checkpoint-turns.js";
import { LeaseMetrics } from "./election/lease-metrics.js";
import { LinkShard } from "./heartbeats/link-shard.js";
import { loadQuotaFile } from "./jobs/quota-file.js";
import { LeaderTerm } from "./leader/leader.js";
import { MasterMetrics } from "./leader/master-metrics.js";

const duration = parsedFlag(parseDuration);

const { flags, log, metrics, nc, onStop } = await startService({
  service: "master",
  summary: "A Corral master replica: one of the cell's masters leads (admits jobs, applies plans, tracks machines), the others follow its log, judge heartbeats as link shards and take over when it dies.",
  name: { help: "this replica's name, unique among the cell's masters", default: "master-0" },
  flags: {
    redis: flag("the Redis that stores the cell's state: redis://host:port, or its Sentinels as sentinel://h1:26379,h2:26379,h3:26379/NAME", parsedFlag((text) => (parseRedisAddress(text), text.trim())), { default: "redis://127.0.0.1:6379" }),
    downAfter: flag("how long a machine may stay silent before it is marked down", duration, { default: "5s" }),
    leaseTtl: flag("how long the leader's lease lasts unrenewed", duration.refine((ms) => ms >= 300, "at least 300ms"), { default: "10s" }),
    leaderCheck: flag("how often a standby looks whether the lease is free or its holder gone", duration.refine((ms) => ms >= 10 && ms <= 10_000, "from 10ms to 10s"), { default: "100ms" }),
    checkpointEvery: flag("the shortest time between checkpoints of the state", duration.refine((ms) => ms >= 100, "at least 100ms"), { default: "10s" }),
    policy: flag(`how the scheduler chooses among machines that fit: ${POLICIES.join(", ")}`, z.enum(POLICIES, { message: `one of ${POLICIES.join(", ")}` }), { default: "hybrid" }),
    quota: flag("a quota file (YAML or JSON); empty: no quota, every user unlimited", z.string(), { default: "" }),
    maxJobsPerUser: flag("the most jobs one user may have in the cell, finished ones not yet collected included", z.coerce.number().int("a whole number").min(1), { default: "100000" }),
    maxPendingTasksPerUser: flag("the most tasks of one user that may wait to be placed", z.coerce.number().int("a whole number").min(1), { default: "1000000" }),
    leaderKeyFile: flag(
      "the file (mode 600, PEM) of the masters' ed25519 key, which signs each term so that machines take a new epoch only from a real leader; `corral cell credentials` makes one",
      z.string({ error: "required: the masters' leader key file (`corral cell credentials` makes one)" }).min(1, "required: the masters' leader key file (`corral cell credentials` makes one)"),
    ),
    redisPasswordFile: flag("a file (mode 600) holding the password of Redis and its Sentinels on its first line; empty: none", z.string(), { default: "" }),
    redisWaitReplicas: flag("Redis replicas that must have each commit before it is acknowledged", z.coerce.number().int("a whole number of replicas").min(0).max(16), { default: "0" }),
    redisWaitTimeout: flag("how long a commit waits for those replicas", duration, { default: "1s" }),
    jsReplicas: jsReplicasFlag,
    reservationHalfLife: flag("how fast a task's unused reservation decays toward its usage plus a margin", duration.refine((ms) => ms >= 100, "at least 100ms"), { default: "5m" }),
  },
  logFields: (flags) => ({ replica: flags.name }),
  connectionName: (flags) => `${flags.name}@${flags.cell}`,
});
const quota = flags.quota === "" ? undefined : loadQuotaFile(flags.quota);
log.info(quota === undefined ? { quota: "none" } : { quota: flags.quota, users: Object.keys(quota.users).length }, quota === undefined ? "no quota file: every user is unlimited" : "quota loaded");
const signer = fromFlag(() => LeaderSigner.fromFile(flags.leaderKeyFile), "corral-master");
const redisPassword = secretFromFlag(flags.redisPasswordFile, "--redis-password-file", "corral-master");
// The cell's servers speak TLS when it has a CA (--tls-ca): NATS and Redis alike.
const redisTlsCa = flags.tlsCa === "" ? undefined : flags.tlsCa;
const redis = connectRedis(flags.redis, log, { commandTimeoutMs: Math.max(5000, flags.leaseTtl), metrics: metrics.connections, password: redisPassword, tlsCa: redisTlsCa });
// Commits and won epochs alike wait for the replicas: a promoted replica then has both.
const replicaWait = flags.redisWaitReplicas > 0 ? { replicas: flags.redisWaitReplicas, timeoutMs: flags.redisWaitTimeout } : undefined;
const store = new FencedStore(redis, flags.cell, replicaWait);
const logReader = new ChangeLogReader(watchRedis(redis.duplicate(), log, metrics.connections), flags.cell);
// Its own connection: a checkpoint is megabytes, and must not hold up the commits behind it.
const checkpointConnection = watchRedis(redis.duplicate(), log, metrics.connections);
const checkpoints = new CheckpointStore(checkpointConnection, flags.cell, RECORDS_VERSION, READABLE_RECORDS_VERSIONS);
const lease = new LeaderLease(redis, flags.cell, flags.name, flags.leaseTtl, replicaWait);

const leaseKeeper = new LeaseKeeper({
  redisUrl: flags.redis,
  redisPassword,
  redisTlsCa,
  cell: flags.cell,
  candidate: flags.name,
  ttlMs: flags.leaseTtl,
  // Ten tries per lease: a busy machine delays a renewal by seconds, never all ten.
  renewEveryMs: Math.min(1000, Math.max(20, Math.floor(flags.leaseTtl / 10))),
  // A margin under the TTL for the reply's way back and for clocks running at different rates.
  stepDownAfterMs: Math.floor(flags.leaseTtl * 0.8),
  // Long GC pauses and big batches stay under this; a main thread stuck longer lets the lease go.
  stallToleranceMs: Math.max(Math.floor(flags.leaseTtl / 2), 1000),
});

let term: LeaderTerm | undefined;
let follower: StateFollower | undefined;
let shard: LinkShard | undefined;
let epoch = 0;
let stopping = false;
const replicaMetrics = new MasterMetrics(metrics.registry, { epoch: () => epoch, leaderState: () => term?.state });
new LeaseMetrics(metrics.registry, leaseKeeper);

/**
 * A standby follows the change log, answers read-only queries, and is a link shard judging
 * heartbeats against the state it follows, until it leads.
 */
async function startFollowing(): Promise<StateFollower> {
  const started = new StateFollower(checkpoints, logReader, log);
  await started.start();
  started.serveReads(nc, flags.cell, flags.name);
  shard = new LinkShard(nc, flags.cell, flags.name, () => started.state, log);
  shard.start();
  return started;
}

function stepDown(why: string): void {
  if (term === undefined) return;
  log.warn({ epoch, why }, "stepping down");
  replicaMetrics.stepDowns.inc();
  leaseKeeper.standBy();
  term.stop();
  term = undefined;
  epoch = 0;
}

const election = new Election({
  cell: flags.cell,
  lease,
  nc,
  log,
  checkEveryMs: flags.leaderCheck,
  isLeading: () => term !== undefined || stopping,
  prepare: async () => {
    follower ??= await startFollowing();
  },
  lead,
  onError: (error) => {
    if (error instanceof CorralError && error.code === "incompatible_state") exitIncompatible(error);
    log.warn({ err: (error as Error).message }, "election step failed");
  },
});

async function lead(won: number, asked: number): Promise<void> {
  const wonAt = Date.now();
  epoch = won;
  leaseKeeper.lead(won, asked);
  // The leader takes its share of heartbeats whole, with the state it leads from.
  shard?.stop();
  shard = undefined;
  // The epoch is ours now, so no older leader can add to the log: read it to its end.
  const following = follower!;
  follower = undefined;
  const initialState = await following.catchUpAndStop().catch((error: unknown) => {
    log.warn({ err: (error as Error).message }, "could not catch up from the change log; recovering the state instead");
    return undefined;
  });
  const caughtUpAt = Date.now();
  const starting = new LeaderTerm({
    cell: flags.cell,
    name: flags.name,
    epoch: won,
    signer,
    nc,
    store,
    checkpoints,
    log: log.child({ epoch: won }),
    downAfterMs: flags.downAfter,
    reservationHalfLifeMs: flags.reservationHalfLife,
    policy: flags.policy,
    quota,
    userLimits: { jobs: flags.maxJobsPerUser, pendingTasks: flags.maxPendingTasksPerUser },
    jsReplicas: flags.jsReplicas,
    ...(initialState === undefined ? {} : { initialState }),
    // Only this term may end itself: a late refusal of an older term must not end a newer one.
    onDeposed: (error) => {
      if (term === starting) stepDown(error.message);
    },
    observeCommitSeconds: (seconds) => replicaMetrics.commitSeconds.observe(seconds),
  });
  term = starting;
  replicaMetrics.termStarted(starting.heartbeats);
  try {
    await starting.start();
    // Where a failover's time goes, for the failover benchmark's slow ones.
    log.info({ epoch: won, catchUpMs: caughtUpAt - wonAt, startMs: Date.now() - caughtUpAt, leaseWaitMs: wonAt - asked }, "leadership taken");
  } catch (error) {
    if (term === starting) stepDown(`could not start leading: ${(error as Error).message}`);
  }
}

// A leader that cannot be sure it still holds the lease stops acting before the lease can
// expire and another master win (the fence would refuse its writes anyway).
const freshnessCheck = setInterval(() => {
  if (term === undefined) return;
  const why = leaseKeeper.mustStepDown(epoch);
  if (why !== undefined) stepDown(why);
}, Math.max(20, Math.min(250, Math.floor(flags.leaseTtl / 20))));

/** Stored state this version cannot read must not be led from, nor guessed at: say so and stop. */
function exitIncompatible(error: CorralError): never {
  log.fatal({ err: error.message }, "cannot read the cell's stored state");
  process.stderr.write(`corral-master: ${error.message}\n`);
  process.exit(2);
}

const checkpointTurns = new CheckpointTurns(checkpoints, { replica: flags.name, everyMs: flags.checkpointEvery }, () => (term === undefined ? { follower } : "leading"), log, exitIncompatible);
checkpointTurns.start();

onStop(async () => {
  stopping = true;
  election.stop();
  clearInterval(freshnessCheck);
  checkpointTurns.stop();
  await leaseKeeper.stop();
  const leading = epoch;
  stepDown("shutting down");
  shard?.stop();
  // Hand over: give the lease up and say so, so a standby leads at once rather than at its next look.
  if (leading > 0 && (await lease.release(leading).then(() => true, () => false))) election.announceRelease();
  redis.disconnect();
  checkpointConnection.disconnect();
});

await leaseKeeper.ready;
log.info({ nats: flags.nats, redis: redactedRedisAddress(flags.redis) }, "master started");
election.start();
