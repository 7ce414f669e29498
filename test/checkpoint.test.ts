import test from "ava";
import { CorralError } from "@corral/contracts";
import { CheckpointStore, connectRedis, createLogger, FencedStore, LeaderLease, seededRandom } from "@corral/kit";
import { startTestRedis, type TestServer } from "@corral/testkit";

let redisServer: TestServer;
test.before(async () => {
  redisServer = await startTestRedis("checkpoint");
});
test.after.always(async () => {
  await redisServer?.stop();
});

const log = createLogger("test", "checkpoint");

async function leaderOf(cell: string) {
  const redis = connectRedis(redisServer.url, log);
  const epoch = await new LeaderLease(redis, cell, "master-a", 60_000).tryAcquire();
  return { redis, epoch, store: new FencedStore(redis, cell), checkpoints: new CheckpointStore(redis, cell, 1) };
}

const put = (field: string, value: string) => [field, Buffer.from(value)] as const;

test("a checkpoint holds the state at its position, the next one trims the log behind it, and recovery replays only what came after", async (t) => {
  const { redis, epoch, store, checkpoints } = await leaderOf("cp1");
  t.teardown(() => redis.disconnect());
  t.is(await checkpoints.take(), undefined, "an empty log has nothing to checkpoint");
  for (let i = 0; i < 50; i++) await store.commit(epoch, { puts: [put(`job-${i}`, `v${i}`)], deletes: [] });
  await store.commit(epoch, { puts: [], deletes: ["job-0"] });
  const lastBefore = (await checkpoints.lastLogId())!;

  const taken = await checkpoints.take();
  t.truthy(taken);
  t.is(taken!.position, lastBefore);
  t.is(taken!.records, 49);
  t.is(taken!.epoch, epoch);
  t.is(await checkpoints.logLength(), 51, "the first checkpoint trims nothing: the trim lags one checkpoint");
  t.false(await checkpoints.trimmedPast("0-0"));
  t.is(await checkpoints.take(), undefined, "nothing new, no new checkpoint");

  await store.commit(epoch, { puts: [put("job-1", "v1b"), put("job-99", "v99")], deletes: ["job-2"] });
  const recovered = await checkpoints.recover();
  t.is(recovered.checkpoint?.position, lastBefore);
  t.is(recovered.replayed, 2, "puts and deletes go as one fenced call each");
  t.is(recovered.records.size, 49);
  t.is(recovered.records.get("job-1")?.toString(), "v1b");
  t.is(recovered.records.get("job-99")?.toString(), "v99");
  t.false(recovered.records.has("job-0"));
  t.false(recovered.records.has("job-2"));
  t.is(recovered.position, (await checkpoints.lastLogId()) ?? "none");

  const second = await checkpoints.take();
  t.is(await checkpoints.logLength(), 3, "the second trims behind the first: its entry and the two after it stay");
  t.true(await checkpoints.trimmedPast("0-0"), "a reader at the start would have missed entries");
  t.false(await checkpoints.trimmedPast(lastBefore), "a reader at the first checkpoint has missed none");
  t.is((await checkpoints.recover()).checkpoint?.position, second!.position);
});

test("a standby's checkpoint of the records it followed is what recovery reads, and one at an older position is not stored", async (t) => {
  const { redis, epoch, store, checkpoints } = await leaderOf("cp-followed");
  t.teardown(() => redis.disconnect());
  await store.commit(epoch, { puts: [put("a", "1"), put("b", "1")], deletes: [] });
  const position = (await checkpoints.lastLogId())!;
  // What a follower holds at that position.
  const followed = new Map([put("a", "1"), put("b", "1")]);
  const taken = await checkpoints.takeOf(followed, position);
  t.is(taken?.position, position);
  t.is(taken?.records, 2);
  t.is(taken?.epoch, epoch);
  await store.commit(epoch, { puts: [put("a", "2")], deletes: ["b"] });
  const recovered = await checkpoints.recover();
  t.is(recovered.checkpoint?.position, position, "read from the followed copy's checkpoint");
  t.is(recovered.replayed, 2, "the put and the delete after it");
  t.deepEqual([...recovered.records].map(([field, bytes]) => [field, bytes.toString()]), [["a", "2"]]);
  t.is(await checkpoints.takeOf(new Map([put("a", "stale")]), position), undefined, "not newer than the stored one");
  t.is((await checkpoints.recover()).records.get("a")?.toString(), "2");
});

test("an older checkpoint never replaces a newer one", async (t) => {
  const { redis, epoch, store, checkpoints } = await leaderOf("cp2");
  t.teardown(() => redis.disconnect());
  await store.commit(epoch, { puts: [put("a", "1")], deletes: [] });
  const first = await checkpoints.take();
  await store.commit(epoch, { puts: [put("a", "2")], deletes: [] });
  const second = await checkpoints.take();
  t.truthy(first && second);
  // A slow writer arriving late with the first position is dropped by the script, chunks and all.
  const lateChunks = `corral:{cp2}:checkpoint:chunks:${first!.position}`;
  await redis.hset(lateChunks, "0", Buffer.from("stale"));
  const stale = await (redis as unknown as { writeCheckpoint: (...args: unknown[]) => Promise<number> }).writeCheckpoint(
    "corral:{cp2}:checkpoint",
    "corral:{cp2}:log",
    lateChunks,
    first!.position,
    1,
  );
  t.is(stale, 0);
  t.is(await redis.exists(lateChunks), 0, "the late writer's chunks are dropped");
  t.is((await checkpoints.read())?.position, second!.position);
});

test("a checkpoint bigger than a chunk is written in chunks and read back whole; the one before it is removed with its chunks", async (t) => {
  const { redis, epoch, store, checkpoints } = await leaderOf("cp-chunks");
  t.teardown(() => redis.disconnect());
  // Three records of 3 MB: over 9 MB, three 4 MB chunks.
  const big = (fill: string) => Buffer.alloc(3 * 1024 * 1024, fill);
  await store.commit(epoch, { puts: [["a", big("a")], ["b", big("b")], ["c", big("c")]], deletes: [] });
  const first = (await checkpoints.take())!;
  t.true(first.bytes > 9 * 1024 * 1024);
  const firstChunks = `corral:{cp-chunks}:checkpoint:chunks:${first.position}`;
  t.is(await redis.hlen(firstChunks), 3);
  t.is(await redis.pttl(firstChunks), -1, "a stored checkpoint's chunks do not expire");
  t.is(await redis.hexists("corral:{cp-chunks}:checkpoint", "data"), 0, "no value holds it whole");
  const read = (await checkpoints.read())!;
  t.true(read.records.get("b")!.equals(big("b")));
  t.is(read.records.size, 3);

  await store.commit(epoch, { puts: [["a", Buffer.from("small now")]], deletes: ["b"] });
  const second = (await checkpoints.take())!;
  t.is(await redis.exists(firstChunks), 0, "the checkpoint before is gone with its chunks");
  const recovered = await checkpoints.recover();
  t.is(recovered.checkpoint?.position, second.position);
  t.is(recovered.records.get("a")?.toString(), "small now");
  t.false(recovered.records.has("b"));
});

test("chunks cut short are not made a checkpoint: the stored one stays, and the writer is told", async (t) => {
  const { redis, epoch, store, checkpoints } = await leaderOf("cp-short");
  t.teardown(() => redis.disconnect());
  await store.commit(epoch, { puts: [put("a", "1")], deletes: [] });
  const first = (await checkpoints.take())!;
  await store.commit(epoch, { puts: [put("a", "2")], deletes: [] });
  const position = (await checkpoints.lastLogId())!;
  const chunks = `corral:{cp-short}:checkpoint:chunks:${position}`;
  await redis.hset(chunks, "0", Buffer.from("half of it"));
  const written = await (redis as unknown as { writeCheckpoint: (...args: unknown[]) => Promise<number> }).writeCheckpoint("corral:{cp-short}:checkpoint", "corral:{cp-short}:log", chunks, position, 2);
  t.is(written, -1);
  t.is(await redis.exists(chunks), 0);
  t.is((await checkpoints.read())?.position, first.position);
});

test("a checkpoint of another records version is refused with an error that names both versions", async (t) => {
  const { redis, epoch, store, checkpoints } = await leaderOf("cp3");
  t.teardown(() => redis.disconnect());
  await store.commit(epoch, { puts: [put("a", "1")], deletes: [] });
  await new CheckpointStore(redis, "cp3", 7).take();
  const error = await t.throwsAsync(checkpoints.recover());
  t.true(error instanceof CorralError);
  t.is((error as CorralError).code, "incompatible_state");
  t.regex(error!.message, /version 7.*reads version 1/);
  t.is((await checkpoints.read())?.machineVersion, 7, "inspection still reads it");
});

test("recovery while checkpoints are taken and commits land concurrently always gives the committed state", async (t) => {
  const { redis, epoch, store, checkpoints } = await leaderOf("cp4");
  const other = connectRedis(redisServer.url, log);
  t.teardown(() => {
    redis.disconnect();
    other.disconnect();
  });
  const random = seededRandom(42);
  const expected = new Map<string, string>();
  let committing = true;
  const checkpointer = (async () => {
    const standby = new CheckpointStore(other, "cp4", 1);
    while (committing) {
      await standby.take();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  let recoveries = 0;
  for (let batch = 0; batch < 300; batch++) {
    const puts: (readonly [string, Buffer])[] = [];
    const deletes: string[] = [];
    const fields = new Set(Array.from({ length: 5 }, () => `job-${Math.floor(random() * 40)}`));
    for (const field of fields) {
      if (random() < 0.2) {
        deletes.push(field);
        expected.delete(field);
      } else {
        const value = `b${batch}-${field}`;
        puts.push(put(field, value));
        expected.set(field, value);
      }
    }
    await store.commit(epoch, { puts, deletes });
    if (batch % 30 === 0) {
      const recovered = await checkpoints.recover();
      t.deepEqual(asStrings(recovered.records), expected, `recovery after batch ${batch}`);
      recoveries++;
    }
  }
  committing = false;
  await checkpointer;
  t.deepEqual(asStrings((await checkpoints.recover()).records), expected);
  t.is(recoveries, 10);
  t.true((await checkpoints.logLength()) < 300, "the log was trimmed behind the checkpoints");
});

function asStrings(records: Map<string, Buffer>): Map<string, string> {
  return new Map([...records].map(([field, value]) => [field, value.toString()]));
}
