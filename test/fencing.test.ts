import test from "ava";
import { CorralError } from "@corral/contracts";
import { cellKeys, CheckpointStore, connectRedis, createLogger, FencedStore, LeaderLease } from "@corral/kit";
import { eventually, startTestRedis, type TestServer } from "@corral/testkit";

let redisServer: TestServer;
test.before(async () => {
  redisServer = await startTestRedis("fencing");
});
test.after.always(async () => {
  await redisServer?.stop();
});

const log = createLogger("test", "fencing");

test("a write with a stale epoch is refused by Redis and changes nothing", async (t) => {
  const redis = connectRedis(redisServer.url, log);
  t.teardown(() => redis.disconnect());
  const cell = "fence1";
  const store = new FencedStore(redis, cell);
  const stored = async () => (await new CheckpointStore(redis, cell, 1).recover()).records;
  // Long, so that however busy the machine, it cannot run out before "nobody else wins" is checked.
  const first = new LeaderLease(redis, cell, "master-a", 600_000);
  const second = new LeaderLease(redis, cell, "master-b", 5000);

  const oldEpoch = await first.tryAcquire();
  t.is(oldEpoch, 1);
  t.is(await second.tryAcquire(), 0, "nobody else wins while the lease is held");
  await store.commit(oldEpoch, { puts: [["job-a", Buffer.from("v1")]], deletes: [] });

  // The first leader stalls past its lease: its lease runs out now (as Redis expires it), and the second takes over with a new epoch.
  await redis.pexpire(cellKeys(cell).lease, 1);
  await eventually("the first lease to run out", async () => ((await first.holder()) === null ? true : undefined), 10_000);
  const newEpoch = await second.tryAcquire();
  t.is(newEpoch, 2);
  t.false(await first.renew(oldEpoch), "the deposed leader cannot renew");

  const refusal = await t.throwsAsync(store.commit(oldEpoch, { puts: [["job-a", Buffer.from("stale")], ["job-b", Buffer.from("x")]], deletes: [] }));
  t.true(refusal instanceof CorralError);
  t.is((refusal as CorralError).code, "stale_epoch");
  t.is((await stored()).get("job-a")?.toString(), "v1", "the stale write changed nothing");
  t.false((await stored()).has("job-b"));

  await store.commit(newEpoch, { puts: [["job-a", Buffer.from("v2")]], deletes: [] });
  t.is((await stored()).get("job-a")?.toString(), "v2");
  t.is(await store.currentEpoch(), 2);
});

test("the lease renews only for its holder and epoch, and release hands it over", async (t) => {
  const redis = connectRedis(redisServer.url, log);
  t.teardown(() => redis.disconnect());
  const cell = "fence2";
  const a = new LeaderLease(redis, cell, "master-a", 5000);
  const b = new LeaderLease(redis, cell, "master-b", 5000);
  const epoch = await a.tryAcquire();
  t.true(await a.renew(epoch));
  t.false(await a.renew(epoch + 1), "a wrong epoch does not renew");
  t.false(await b.renew(epoch), "another candidate does not renew");
  await b.release(epoch);
  t.is(await a.holder(), `master-a/${epoch}`, "another candidate cannot release it");
  await a.release(epoch);
  t.is(await b.tryAcquire(), epoch + 1);
});

test("a batch larger than one script call can take is committed whole, in order", async (t) => {
  const redis = connectRedis(redisServer.url, log);
  t.teardown(() => redis.disconnect());
  const store = new FencedStore(redis, "fence3");
  const epoch = await new LeaderLease(redis, "fence3", "master-a", 5000).tryAcquire();
  const puts = Array.from({ length: 5000 }, (_, i) => [`job-${i}`, Buffer.from(`v${i}`)] as const);
  await store.commit(epoch, { puts, deletes: [] });
  const checkpoints = new CheckpointStore(redis, "fence3", 1);
  const stored = (await checkpoints.recover()).records;
  t.is(stored.size, 5000);
  t.is(stored.get("job-4999")?.toString(), "v4999");
  await store.commit(epoch, { puts: [], deletes: puts.map(([field]) => field) });
  t.is((await checkpoints.recover()).records.size, 0);
});
