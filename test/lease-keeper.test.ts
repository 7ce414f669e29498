import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import test from "ava";
import { connectRedis, createLogger, LeaderLease, LeaseKeeper } from "@corral/kit";
import { eventually, startTestRedis, type TestServer } from "@corral/testkit";

let redisServer: TestServer;
test.before(async () => {
  redisServer = await startTestRedis("lease-keeper");
});
test.after.always(async () => {
  await redisServer?.stop();
});

const log = createLogger("test", "lease-keeper");

/** Blocks this thread, as a long garbage collection or a stuck handler would. */
function blockMainThread(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: nothing else on this thread runs
  }
}

test.serial("a main thread paused longer than the lease, but shorter than the stall tolerance, keeps its lease", async (t) => {
  const redis = connectRedis(redisServer.url, log);
  const keeper = new LeaseKeeper({ redisUrl: redisServer.url, cell: "kept", candidate: "master-a", ttlMs: 1000, renewEveryMs: 300, stepDownAfterMs: 800, stallToleranceMs: 5000 });
  t.teardown(async () => {
    await keeper.stop();
    redis.disconnect();
  });
  await keeper.ready;
  const lease = new LeaderLease(redis, "kept", "master-a", 1000);
  const asked = Date.now();
  const epoch = await lease.tryAcquire();
  keeper.lead(epoch, asked);
  blockMainThread(2500); // 2.5 TTLs without this thread doing anything
  t.is(await lease.holder(), `master-a/${epoch}`, "the worker renewed it meanwhile");
  t.true(Date.now() - keeper.renewedAt < 1000, "and says so");
  t.false(keeper.lost(epoch));
  t.is(keeper.mustStepDown(epoch), undefined);
  t.true(keeper.renewals > 0, "renewals are counted");
  t.not(keeper.minSlackMs, undefined, "and their smallest margin to the step-down deadline measured");
});

test.serial("a main thread stuck past the stall tolerance loses the lease, and another master can win", async (t) => {
  const redis = connectRedis(redisServer.url, log);
  const keeper = new LeaseKeeper({ redisUrl: redisServer.url, cell: "stuck", candidate: "master-a", ttlMs: 600, renewEveryMs: 200, stepDownAfterMs: 480, stallToleranceMs: 800 });
  t.teardown(async () => {
    await keeper.stop();
    redis.disconnect();
  });
  await keeper.ready;
  const lease = new LeaderLease(redis, "stuck", "master-a", 600);
  const asked = Date.now();
  const epoch = await lease.tryAcquire();
  keeper.lead(epoch, asked);
  blockMainThread(2500); // tolerance 800 ms, then the lease's 600 ms run out
  t.is(await lease.holder(), null, "the worker stopped renewing for a stuck leader");
  t.true(Date.now() - keeper.renewedAt > 600, "and the leader can see it may no longer act");
  t.is(await new LeaderLease(redis, "stuck", "master-b", 600).tryAcquire(), epoch + 1);
});

test.serial("a lease taken over by another master is reported lost", async (t) => {
  const redis = connectRedis(redisServer.url, log);
  const keeper = new LeaseKeeper({ redisUrl: redisServer.url, cell: "taken", candidate: "master-a", ttlMs: 600, renewEveryMs: 200, stepDownAfterMs: 480, stallToleranceMs: 2000 });
  t.teardown(async () => {
    await keeper.stop();
    redis.disconnect();
  });
  await keeper.ready;
  const lease = new LeaderLease(redis, "taken", "master-a", 600);
  const epoch = await lease.tryAcquire();
  keeper.lead(epoch, Date.now());
  await redis.del("corral:{taken}:lease"); // as if it had expired
  t.is(await new LeaderLease(redis, "taken", "master-b", 5000).tryAcquire(), epoch + 1);
  // The keeper's worker finds out at its next renewal; on a busy machine that may take a while.
  t.true(await eventually("the keeper to report the lease lost", () => (keeper.lost(epoch) ? true : undefined), 10_000));
});

test.serial("a whole process held up longer than the stall tolerance (a busy machine delays every thread alike), but less than the lease, keeps renewing", async (t) => {
  // The stop (1.5 s) is three times the stall tolerance and half the lease.
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./support/keep-lease.ts", import.meta.url)), redisServer.url, "held-up", "3000", "500"], { stdio: ["ignore", "pipe", "inherit"] });
  t.teardown(() => child.kill("SIGKILL"));
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const renewals = () => Math.max(0, ...[...output.matchAll(/renewals (\d+)/g)].map((m) => Number(m[1])));
  // A child started from source on a machine busy with the whole suite can take tens of seconds to get going.
  await eventually("the child to lead and renew", () => (renewals() >= 3 ? true : undefined), 60_000);
  const epoch = Number(/epoch (\d+)/.exec(output)![1]);
  child.kill("SIGSTOP");
  await new Promise((resolve) => setTimeout(resolve, 1500)); // the stall under test, not a wait for an outcome
  const before = renewals();
  child.kill("SIGCONT");
  await eventually("renewals to go on after the stall", () => (renewals() >= before + 10 ? true : undefined), 20_000);
  const redis = connectRedis(redisServer.url, log);
  t.teardown(() => redis.disconnect());
  t.is(await new LeaderLease(redis, "held-up", "other", 3000).holder(), `kept/${epoch}`);
});
