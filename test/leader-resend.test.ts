import test from "ava";
import { leaderServing, linkAlive, subjects } from "@corral/contracts";
import { callRpc, connectNats, createLogger, LeaderChanges, publishEvent, serveRpc, type NatsConnection } from "@corral/kit";
import { eventually, startTestNats, type TestServer } from "@corral/testkit";

// A request that reached a leader as it died gets no answer. With a resend signal, an
// idempotent request is sent again the moment the next leader says it serves, instead of
// after its attempt's timeout: the attempts below wait ten minutes, far past the test's
// own timeout, so an answer at all proves the resend.
const CELL = "resend";
const FOREVER_MS = 600_000;
const log = createLogger("test", CELL);
let nats: TestServer;
const connections: NatsConnection[] = [];

async function connection(name: string): Promise<NatsConnection> {
  const nc = await connectNats(nats.url, name, log);
  connections.push(nc);
  return nc;
}

test.before(async () => {
  nats = await startTestNats("leader-resend");
});
test.after.always(async () => {
  for (const nc of connections) await nc.close().catch(() => {});
  await nats?.stop();
});

/** A leader that takes requests and dies before answering them; resolves once it has taken `count`. */
async function dyingLeader(subject: string, count = 1) {
  const nc = await connection(`dying-${subject}`);
  let taken = 0;
  serveRpc(nc, subject, linkAlive, CELL, log, () => {
    taken += 1;
    return new Promise<never>(() => {}); // never answers: its process is about to die
  });
  await nc.flush();
  return {
    taken: () => taken,
    died: async () => {
      await eventually("the request to reach the dying leader", async () => (taken >= count ? true : undefined), 30_000);
      await nc.close();
    },
  };
}

async function nextLeader(subject: string, epoch: number) {
  const nc = await connection(`next-${subject}-${epoch}`);
  serveRpc(nc, subject, linkAlive, CELL, log, ({ shard }) => ({ wanted: [`${shard}-term-${epoch}`] }));
  await nc.flush();
  publishEvent(nc, subjects.leaderServing(CELL), leaderServing, CELL, { replica: `master-${epoch}`, epoch }, epoch);
}

test.serial("an idempotent request in flight to a dying leader is sent again as soon as the next leader serves", async (t) => {
  const subject = "corral.resend.test.idempotent";
  const caller = await connection("caller");
  const changes = new LeaderChanges(caller, CELL, log);
  await caller.flush();
  const dying = await dyingLeader(subject);
  const answer = callRpc(caller, subject, linkAlive, CELL, { shard: "s1", nodes: [] }, { timeoutMs: FOREVER_MS, retryForMs: FOREVER_MS, idempotent: true, resendOn: changes });
  await dying.died();
  await nextLeader(subject, 7);
  t.deepEqual((await answer).wanted, ["s1-term-7"]);
  t.is(dying.taken(), 1);
  t.is(changes.epoch, 7);
  changes.stop();
});

test.serial("an announcement of an older term than the latest is ignored, and a request that is not idempotent is never sent twice", async (t) => {
  const subject = "corral.resend.test.once";
  const caller = await connection("caller-once");
  const changes = new LeaderChanges(caller, CELL, log);
  await caller.flush();
  await nextLeader("corral.resend.test.unused", 9);
  await eventually("term 9 to be seen", async () => (changes.epoch === 9 ? true : undefined), 30_000);
  let resent = false;
  const forget = changes.onNext(() => (resent = true));
  const announcer = await connection("announcer");
  publishEvent(announcer, subjects.leaderServing(CELL), leaderServing, CELL, { replica: "master-old", epoch: 8 }, 8);
  await announcer.flush();
  await caller.flush();
  t.false(resent, "term 8 after term 9 is a late copy");
  forget();

  const dying = await dyingLeader(subject);
  const answer = callRpc(caller, subject, linkAlive, CELL, { shard: "s2", nodes: [] }, { timeoutMs: 2000, resendOn: changes });
  await dying.died();
  await nextLeader(subject, 10);
  await t.throwsAsync(answer, { message: /no answer on .* within 2000 ms/ }, "a change that may have been applied is not applied again");
  t.is(dying.taken(), 1);
  changes.stop();
});
