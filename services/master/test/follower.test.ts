import test from "ava";
import { parseJobSpec } from "@corral/spec";
import { ChangeLogReader, CheckpointStore, connectRedis, createLogger, FencedStore, LeaderLease } from "@corral/kit";
import { decodeMachine, encodeMachine, jobFields, encodeSubmission, MACHINE_FIELD_PREFIX, SUBMISSION_FIELD_PREFIX, type JobRecord } from "@corral/state";
import { encode } from "@corral/contracts";
import { startTestRedis, type TestServer } from "@corral/testkit";
import { StateFollower } from "../src/standby/follower.js";
import { jobRecord } from "./support/leader-harness.js";

let redisServer: TestServer;
test.before(async () => {
  redisServer = await startTestRedis("follower");
});
test.after.always(async () => {
  await redisServer?.stop();
});

const log = createLogger("test", "follower");

function job(name: string, replicas: number): JobRecord {
  return jobRecord(parseJobSpec(`job: ${name}\nbinary: x\nreplicas: ${replicas}\nrequirements: { cpu: 0.5, ram: 1G, disk: 1G }\n`, { file: "j.yaml" }));
}

test("a follower that reads many entries at once ends with the state of applying each in order", async (t) => {
  const redis = connectRedis(redisServer.url, log);
  t.teardown(() => redis.disconnect());
  const cell = "follow1";
  const epoch = await new LeaderLease(redis, cell, "master-a", 60_000).tryAcquire();
  const store = new FencedStore(redis, cell);
  const web = job("web", 3);
  const batch = job("batch", 2);
  const gone = job("gone", 1);
  await store.commit(epoch, { puts: [...jobFields(web), ...jobFields(gone)], deletes: [] });
  // The same job changed in later entries: only its last version may be what the follower holds.
  web.tasks[0]!.lifecycle = { ...web.tasks[0]!.lifecycle, state: "assigned", context: { ...web.tasks[0]!.lifecycle.context, node: "n1" } };
  await store.commit(epoch, { puts: [...jobFields(web), ...jobFields(batch)], deletes: [gone.id] });
  web.killed = true;
  await store.commit(epoch, { puts: [...jobFields(web), [`${SUBMISSION_FIELD_PREFIX}api.r1`, encodeSubmission({ id: "api.r1", status: "accepted", job: web.id, at: 1 })]], deletes: [] });
  // Deleted, then written again: the later put wins.
  await store.commit(epoch, { puts: [...jobFields(gone)], deletes: [] });

  const reader = connectRedis(redisServer.url, log);
  t.teardown(() => reader.disconnect());
  const follower = new StateFollower(new CheckpointStore(redis, cell, 3), new ChangeLogReader(reader, cell), log);
  await follower.start();
  const state = await follower.catchUpAndStop();
  t.deepEqual([...state.jobs.keys()].sort(), [batch.id, gone.id, web.id].sort());
  t.true(state.jobs.get(web.id)!.killed, "the last version of web");
  t.is(state.jobs.get(web.id)!.tasks[0]!.lifecycle.state, "assigned");
  t.deepEqual(state.tasksOn("n1").map((ref) => ref.id), [`0.${web.id}`], "indexed as its last version");
  t.is(state.pendingCount, 2 + 2 + 1, "web's two unplaced tasks, batch's two, gone's one");
  t.is(state.submissions.get("api.r1")?.status, "accepted");
});

test("machines are stored with the jobs: a follower knows each one's shape, digest and up or down, and a bad record is refused naming it", async (t) => {
  const redis = connectRedis(redisServer.url, log);
  t.teardown(() => redis.disconnect());
  const cell = "follow-machines";
  const epoch = await new LeaderLease(redis, cell, "master-a", 60_000).tryAcquire();
  const store = new FencedStore(redis, cell);
  const machine = (name: string, state: "up" | "down", digest: string) => ({
    name,
    host: "10.0.0.7",
    pid: 4242,
    capacity: { cpu: 2, ram: 2 ** 30, disk: 2 ** 31 },
    attributes: { rack: "r1" },
    portRange: [20000, 20999] as [number, number],
    state,
    digest,
    heartbeatMs: 1000,
  });
  await store.commit(epoch, { puts: [[`${MACHINE_FIELD_PREFIX}m1`, encodeMachine(machine("m1", "up", "d1"))], [`${MACHINE_FIELD_PREFIX}m2`, encodeMachine(machine("m2", "up", "d2"))]], deletes: [] });
  await store.commit(epoch, { puts: [[`${MACHINE_FIELD_PREFIX}m1`, encodeMachine(machine("m1", "down", "d1b"))]], deletes: [`${MACHINE_FIELD_PREFIX}m2`] });

  const reader = connectRedis(redisServer.url, log);
  t.teardown(() => reader.disconnect());
  const follower = new StateFollower(new CheckpointStore(redis, cell, 3), new ChangeLogReader(reader, cell), log);
  await follower.start();
  const state = await follower.catchUpAndStop();
  t.deepEqual([...state.nodes.keys()], ["m1"]);
  const m1 = state.nodes.get("m1")!;
  t.like(m1, { host: "10.0.0.7", state: "down", digest: "d1b", heartbeatMs: 1000, capacity: { cpu: 2, ram: 2 ** 30, disk: 2 ** 31 } });
  t.is(m1.awaitingFirstHeartbeat, undefined, "its shape is known");

  const bad = Buffer.from(encode({ version: 1, machine: { ...machine("m3", "up", "d3"), pid: -1 } }));
  t.throws(() => decodeMachine(`${MACHINE_FIELD_PREFIX}m3`, bad), { message: /machine record machine:m3 cannot be read by this version \(machine\.pid/ });
});
