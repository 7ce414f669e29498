import test from "ava";
import { Redis } from "ioredis";
import { FencedStore, REDIS_USER } from "@corral/kit";
import { TestCell, eventually, sleeperJob } from "@corral/testkit";

// A cell whose Redis is a primary, a replica and three Sentinels: the primary is killed,
// Sentinel promotes the replica, the masters follow it, and nothing acknowledged is lost.
let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("sentinel", { masters: 2, borglets: 1, redisSentinels: true });
});
test.after.always(async () => {
  await cell?.stop();
});

const spec = (name: string) => sleeperJob(name);

/** A submission sent until the cell answers; a conflict means an earlier try was applied. */
async function submitThrough(name: string): Promise<void> {
  await eventually(`${name} accepted`, async () => {
    try {
      await cell.submit(spec(name));
      return true;
    } catch (error) {
      return /exists/.test((error as Error).message) ? true : undefined;
    }
  }, 60_000);
}

test("the Redis primary killed: Sentinel promotes the replica, the masters follow, every acknowledged job is kept and the epoch only goes up", async (t) => {
  const group = cell.cell.cell;
  t.regex(cell.cell.redis, new RegExp(`^sentinel://(127\\.0\\.0\\.1:\\d+,){2}127\\.0\\.0\\.1:\\d+/${group}$`));
  const acknowledged: string[] = [];
  for (let i = 0; i < 5; i++) acknowledged.push((await cell.submit(spec(`before_${i}`))).id);
  const before = await cell.leader();

  const sentinelPort = Number(/sentinel:\/\/127\.0\.0\.1:(\d+)/.exec(cell.cell.redis)![1]);
  const sentinel = new Redis({ port: sentinelPort, host: "127.0.0.1", lazyConnect: true, password: cell.redisPassword! });
  t.teardown(() => sentinel.disconnect());
  const primaryPort = async () => Number(((await sentinel.call("SENTINEL", "get-master-addr-by-name", group)) as string[])[1]);
  const oldPrimary = await primaryPort();
  cell.kill("redis-server");
  await cell.exited("redis-server");
  const newPrimary = await eventually("Sentinel to promote the replica", async () => {
    const port = await primaryPort();
    return port !== oldPrimary ? port : undefined;
  }, 60_000);

  // The old primary comes back, and Sentinel makes it the new primary's replica: until then a
  // commit that must reach a replica is not acknowledged.
  await cell.restart("redis-server");
  const promoted = new Redis({ port: newPrimary, host: "127.0.0.1", username: REDIS_USER, password: cell.redisPassword! });
  t.teardown(() => promoted.disconnect());
  await eventually("the old primary to replicate the new one", async () => (/connected_slaves:[1-9]/.test(await promoted.info("replication")) ? true : undefined), 60_000);
  for (let i = 0; i < 3; i++) await submitThrough(`after_${i}`);
  for (const id of acknowledged) t.is((await cell.job(id)).id, id, `${id}, acknowledged before the primary died, is kept`);

  t.true((await new FencedStore(promoted, group).currentEpoch()) >= before.epoch, "the fence did not go back");

  // And a master failover on the promoted primary still raises the epoch.
  const leading = await cell.leader();
  cell.kill(leading.replica);
  const next = await eventually("another master leads", async () => {
    const now = await cell.leader();
    return now.replica !== leading.replica ? now : undefined;
  }, 60_000);
  t.true(next.epoch > leading.epoch);
  await submitThrough("after_failover");
  t.is((await cell.job("after_failover.tester.local")).name, "after_failover");
});
