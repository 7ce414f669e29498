import test from "ava";
import { CheckpointStore, connectRedis, createLogger, FencedStore, LeaderLease } from "@corral/kit";
import { signalGroup, type RedisDurability } from "@corral/launcher";
import { eventually, startTestRedis, TestCell } from "@corral/testkit";

const log = createLogger("test", "durability");

const spec = (name: string) =>
  `job ${name} = { runtime = { cell = 'local' } binary = 'sleep' args = ['600'] requirements = { cpu = 0.01 ram = 8M disk = 1M } replicas = 1 }`;

/**
 * A Redis process crash loses nothing acknowledged with either fsync policy: Redis writes
 * the AOF (to the kernel) before it replies. What `everysec` can lose is the last second
 * on a machine crash or power loss, which a test on one machine cannot cause.
 */
for (const durability of ["everysec", "always"] as RedisDurability[]) {
  test(`SIGKILL redis-server (appendfsync ${durability}) under load: every acknowledged submission survives`, async (t) => {
    const cell = await TestCell.start(`durability-${durability}`, { masters: 2, borglets: 1, redisDurability: durability });
    t.teardown(() => cell.stop());
    const acknowledged: string[] = [];
    let stop = false;
    const producer = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          acknowledged.push((await cell.submit(spec(`load-${i}`))).id);
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 50)); // refused while Redis is away: not acknowledged
        }
      }
    })();
    await eventually("some acknowledged submissions", () => (acknowledged.length >= 10 ? true : undefined), 30_000);
    cell.kill("redis-server", "SIGKILL");
    const countAtKill = acknowledged.length;
    await cell.exited("redis-server");
    await cell.restart("redis-server");
    await eventually("submissions after the restart", () => (acknowledged.length >= countAtKill + 5 ? true : undefined), 30_000);
    stop = true;
    await producer;
    // A new leader reads everything back from Redis: make one by killing the leader.
    const leader = await cell.leader();
    cell.kill(leader.replica, "SIGKILL");
    await eventually("a new leader", async () => ((await cell.leader()).replica !== leader.replica ? true : undefined), 20_000);
    const stored = new Set((await cell.jobs()).map((job) => job.id));
    t.deepEqual(
      acknowledged.filter((id) => !stored.has(id)),
      [],
      "every acknowledged submission is in the state the new leader recovered",
    );
  });
}

test("Redis primary lost and a replica promoted: a replica wait keeps every acknowledged commit; without it, acknowledged writes are lost", async (t) => {
  const primary = await startTestRedis("durability-primary");
  const replica = await startTestRedis("durability-replica", { replicaOf: primary.port });
  t.teardown(async () => {
    signalGroup(replica.process, "SIGCONT");
    await primary.stop();
    await replica.stop();
  });
  const writer = connectRedis(primary.url, log, { commandTimeoutMs: 3000 });
  const promoted = connectRedis(replica.url, log);
  t.teardown(() => {
    writer.disconnect();
    promoted.disconnect();
  });
  await eventually("the replica to sync", async () => (/master_link_status:up/.test(await promoted.info("replication")) ? true : undefined), 10_000);

  const cell = "replicated";
  // A replica busy with the rest of the suite may take a while to confirm; a commit it does not confirm in time is refused, not lost.
  const waiting = new FencedStore(writer, cell, { replicas: 1, timeoutMs: 1000 });
  const epoch = await new LeaderLease(writer, cell, "master-a", 60_000).tryAcquire();
  const acknowledged: string[] = [];
  let refused = 0;
  let writing = true;
  t.teardown(() => {
    writing = false; // a failed wait below must not leave the writer running (the worker would never exit)
  });
  const committer = (async () => {
    for (let i = 0; writing; i++) {
      try {
        await waiting.commit(epoch, { puts: [[`job-${i}`, Buffer.from(`v${i}`)]], deletes: [] });
        acknowledged.push(`job-${i}`);
      } catch {
        refused++; // not acknowledged: the replica did not confirm it, or the primary is gone
      }
    }
  })();
  await eventually("acknowledged commits", () => (acknowledged.length >= 50 ? true : undefined), 60_000);

  // The replica falls behind (stopped), so what the primary takes now exists only there.
  signalGroup(replica.process, "SIGSTOP");
  const refusedBefore = refused;
  await eventually("commits refused while the replica cannot confirm them", () => (refused >= refusedBefore + 2 ? true : undefined), 20_000);
  // Cut the link too: what the primary already sent sits in the stopped replica's socket and would still arrive.
  await writer.call("CLIENT", "KILL", "TYPE", "replica");
  await new FencedStore(writer, cell).commit(epoch, { puts: [["without-wait", Buffer.from("x")]], deletes: [] });

  // The primary dies; the replica catches nothing more and is promoted (what Sentinel does).
  signalGroup(primary.process, "SIGKILL");
  writing = false;
  await committer;
  signalGroup(replica.process, "SIGCONT");
  await promoted.replicaof("NO", "ONE");
  const recovered = await new CheckpointStore(promoted, cell, 1).recover();
  t.deepEqual(
    acknowledged.filter((field) => !recovered.records.has(field)),
    [],
    `all ${acknowledged.length} commits acknowledged after a replica wait are on the promoted replica`,
  );
  t.false(recovered.records.has("without-wait"), "a write acknowledged without waiting for a replica is lost by the failover");
  t.is(await new FencedStore(promoted, cell).currentEpoch(), epoch, "the epoch (the fence) moved with the log");
});
