import test from "ava";
import { parseJobSpec } from "@corral/spec";
import { ChangeLogReader, CheckpointStore, connectRedis, createLogger, FencedStore, LeaderLease } from "@corral/kit";
import { startTestRedis, type TestServer } from "@corral/testkit";
import { CellState } from "../src/state/cell-state.js";
import { CommitQueue } from "../src/leader/commit-queue.js";
import { StateFollower } from "../src/standby/follower.js";
import { jobRecord } from "./support/leader-harness.js";

let redisServer: TestServer;
test.before(async () => {
  redisServer = await startTestRedis("commit-queue");
});
test.after.always(async () => {
  await redisServer?.stop();
});

const log = createLogger("test", "commit-queue");

function job(name: string) {
  return jobRecord(parseJobSpec(`job: ${name}\nbinary: x\nreplicas: 1\nrequirements: { cpu: 0.1, ram: 1M, disk: 1M }\n`, { file: "j.yaml" }));
}

test("a commit that times out is refused, and the next one carries its changes: the queue is not stuck on an old failure", async (t) => {
  const cell = "queue-recovers";
  const redis = connectRedis(redisServer.url, log, { commandTimeoutMs: 300 });
  const admin = connectRedis(redisServer.url, log);
  t.teardown(() => {
    redis.disconnect();
    admin.disconnect();
  });
  const epoch = await new LeaderLease(redis, cell, "master-a", 60_000).tryAcquire();
  const state = new CellState();
  const queue = new CommitQueue(new FencedStore(redis, cell), epoch, state, log, (error) => t.fail(`stepped down: ${error.message}`));

  const before = job("before");
  state.addJob(before);
  await queue.commit();

  // Redis holds every client for longer than the command timeout: the commit cannot be acknowledged.
  await admin.call("CLIENT", "PAUSE", "1500", "ALL");
  const during = job("during");
  state.addJob(during);
  const refused = await t.throwsAsync(queue.commit());
  t.regex(refused?.message ?? "", /not acknowledged/);

  const after = job("after");
  state.addJob(after);
  // Once Redis answers again, commits are acknowledged again (formerly: "an earlier commit failed", for good).
  let lastError = "";
  for (const deadline = Date.now() + 15_000; ; ) {
    try {
      await queue.commit();
      break;
    } catch (error) {
      lastError = (error as Error).message;
      if (Date.now() > deadline) return t.fail(`no commit acknowledged within 15 s after the pause: ${lastError}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const reader = connectRedis(redisServer.url, log);
  t.teardown(() => reader.disconnect());
  const follower = new StateFollower(new CheckpointStore(admin, cell, 3), new ChangeLogReader(reader, cell), log);
  await follower.start();
  const stored = await follower.catchUpAndStop();
  t.deepEqual([...stored.jobs.keys()].sort(), [after.id, before.id, during.id].sort(), "the refused commit's job went in with a later one");
});
