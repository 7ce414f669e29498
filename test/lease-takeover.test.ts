import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import test from "ava";
import { connectRedis, createLogger, LeaderLease } from "@corral/kit";
import { eventually, startTestRedis, type TestServer } from "@corral/testkit";

let redisServer: TestServer;
test.before(async () => {
  redisServer = await startTestRedis("lease-takeover");
});
test.after.always(async () => {
  await redisServer?.stop();
});

const log = createLogger("test", "lease-takeover");
const LONG_TTL_MS = 120_000;

/** A real process holding the lease on its own connection; resolves once it has won. */
async function holder(cell: string): Promise<{ child: ChildProcess; epoch: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./support/hold-lease.ts", import.meta.url)), redisServer.url, cell, String(LONG_TTL_MS)], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(child.stdout!, "data")) as [Buffer];
  return { child, epoch: Number(line.toString().trim()) };
}

test("a holder whose process dies is seen gone at once, and a standby replaces it long before its lease runs out", async (t) => {
  const redis = connectRedis(redisServer.url, log);
  t.teardown(() => redis.disconnect());
  const { child, epoch } = await holder("killed");
  t.teardown(() => child.kill("SIGKILL"));
  const standby = new LeaderLease(redis, "killed", "standby", LONG_TTL_MS);

  const alive = await standby.observe();
  t.is(alive.holder, `doomed/${epoch}`);
  t.true(alive.connected, "the holder's connection is listed while it lives");
  t.is(await standby.tryAcquire(), 0, "a held lease is not free");

  child.kill("SIGKILL");
  const gone = await eventually("the holder's connection closed", async () => {
    const seen = await standby.observe();
    return seen.connected ? undefined : seen;
  }, 20_000);
  t.true(gone.remainingMs > LONG_TTL_MS / 2, "its lease had most of its time left");
  t.is(await standby.tryAcquire({ holder: gone.holder!, connection: "0" }), 0, "a holder seen on another connection is not replaced");
  t.is(await standby.tryAcquire({ holder: gone.holder!, connection: gone.connection! }), epoch + 1, "the standby wins the next epoch");
  t.is(await standby.holder(), `standby/${epoch + 1}`);
});

test("a frozen holder keeps its connection, and so its lease", async (t) => {
  const redis = connectRedis(redisServer.url, log);
  t.teardown(() => redis.disconnect());
  const { child, epoch } = await holder("frozen");
  t.teardown(() => child.kill("SIGKILL"));
  child.kill("SIGSTOP");
  const standby = new LeaderLease(redis, "frozen", "standby", LONG_TTL_MS);
  const seen = await standby.observe();
  t.is(seen.holder, `doomed/${epoch}`);
  t.true(seen.connected, "a stopped process's socket stays open: only its lease's expiry frees the lease");
  t.is(await standby.tryAcquire(), 0);
});

test("a holder that lost its connection and reconnected renews on the new one and is seen alive again", async (t) => {
  const redis = connectRedis(redisServer.url, log);
  const admin = connectRedis(redisServer.url, log);
  t.teardown(() => {
    redis.disconnect();
    admin.disconnect();
  });
  const lease = new LeaderLease(redis, "reconnected", "leader", LONG_TTL_MS);
  const epoch = await lease.tryAcquire();
  const before = await lease.observe();
  t.true(before.connected);
  await admin.call("CLIENT", "KILL", "ID", before.connection!);
  const cut = await eventually("the cut connection seen closed", async () => {
    const seen = await lease.observe(); // asked on the reconnected connection
    return seen.connected ? undefined : seen;
  }, 20_000);
  t.is(cut.connection, before.connection);
  t.true(await lease.renew(epoch));
  const after = await lease.observe();
  t.not(after.connection, before.connection, "the renewal recorded the new connection");
  t.true(after.connected);
});

test("a graceful release frees the lease and its connection record", async (t) => {
  const redis = connectRedis(redisServer.url, log);
  t.teardown(() => redis.disconnect());
  const lease = new LeaderLease(redis, "released", "leader", LONG_TTL_MS);
  const epoch = await lease.tryAcquire();
  await lease.release(epoch);
  const seen = await lease.observe();
  t.is(seen.holder, null);
  t.is(seen.connection, null);
  t.is(await new LeaderLease(redis, "released", "next", LONG_TTL_MS).tryAcquire(), epoch + 1);
});
