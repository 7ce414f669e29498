import test from "ava";
import { Redis } from "ioredis";
import { newRedis } from "@corral/kit";
import { eventually, startTestRedis, startTestSentinel, type TestServer } from "@corral/testkit";

// What a connection through Sentinel must live through (newRedis, redis-address.ts), on real
// redis-servers and Sentinels.
const servers: TestServer[] = [];
test.after.always(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

// A connection made to a primary that is then demoted with no +switch-master for it to hear
// (it connected after the announcement, to a primary back for a moment or named by a
// Sentinel not yet told) must find the new primary, not get READONLY for good.
test("a Sentinel connection whose primary is demoted under it reconnects to the new primary", async (t) => {
  const group = "demotion";
  const first = await startTestRedis("demotion-first");
  servers.push(first);
  const second = await startTestRedis("demotion-second", { replicaOf: first.port });
  servers.push(second);
  const sentinel = await startTestSentinel("demotion-sentinel", first.port, group);
  servers.push(sentinel);

  const client = newRedis(`sentinel://127.0.0.1:${sentinel.port}/${group}`, { maxRetriesPerRequest: 1 });
  t.teardown(() => client.disconnect());
  const servingPort = async () => Number(((await client.call("CONFIG", "GET", "port")) as string[])[1]);
  await client.set("before", "1");
  t.is(await servingPort(), first.port);

  // The group moves to the second server the way an operator would, with no failover, so no
  // +switch-master is published; then the first server becomes its replica.
  const admin = (port: number) => new Redis({ port, host: "127.0.0.1" });
  const [sentinelAdmin, firstAdmin, secondAdmin] = [admin(sentinel.port), admin(first.port), admin(second.port)];
  t.teardown(() => [sentinelAdmin, firstAdmin, secondAdmin].forEach((connection) => connection.disconnect()));
  await secondAdmin.call("REPLICAOF", "NO", "ONE");
  await sentinelAdmin.call("SENTINEL", "REMOVE", group);
  await sentinelAdmin.call("SENTINEL", "MONITOR", group, "127.0.0.1", String(second.port), "1");
  await firstAdmin.call("REPLICAOF", "127.0.0.1", String(second.port));

  await eventually("a write through the old connection to reach the new primary", async () => {
    await client.set("after", "2");
    return true;
  }, 20_000);
  t.is(await servingPort(), second.port);
  t.is(await secondAdmin.get("after"), "2");
});

// ioredis ends a connection for good when +switch-master arrives while it is asking a Sentinel
// where the primary is (its failover detector cuts the attempt short). Here the Sentinel it asks
// first is frozen while the others promote the replica, so the announcement surely comes mid-attempt.
test("a Sentinel connection that hears +switch-master while it reconnects is not ended for good", async (t) => {
  const group = "switch";
  const primary = await startTestRedis("switch-primary");
  servers.push(primary);
  const replica = await startTestRedis("switch-replica", { replicaOf: primary.port });
  servers.push(replica);
  const sentinels: TestServer[] = [];
  for (let i = 0; i < 3; i++) sentinels.push(await startTestSentinel(`switch-sentinel-${i}`, primary.port, group, 2));
  servers.push(...sentinels);
  const [frozen, ...others] = sentinels as [TestServer, TestServer, TestServer];
  const admin = new Redis({ port: others[0]!.port, host: "127.0.0.1" });
  t.teardown(() => admin.disconnect());
  // Until the Sentinels know each other and the replica, none could lead a failover.
  await eventually("the Sentinels to know each other and the replica", async () => {
    const peers = (await admin.call("SENTINEL", "SENTINELS", group)) as unknown[];
    const replicas = (await admin.call("SENTINEL", "REPLICAS", group)) as unknown[];
    return peers.length === 2 && replicas.length === 1 ? true : undefined;
  }, 30_000);

  const client = newRedis(`sentinel://${sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`).join(",")}/${group}`, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  client.on("error", () => {});
  t.teardown(() => client.disconnect());
  await client.set("before", "1");
  t.teardown(() => {
    process.kill(frozen.process.pid, "SIGCONT");
  });
  process.kill(frozen.process.pid, "SIGSTOP");
  process.kill(primary.process.pid, "SIGKILL");
  await eventually("the other Sentinels to promote the replica", async () => {
    const address = (await admin.call("SENTINEL", "get-master-addr-by-name", group)) as string[];
    return Number(address[1]) === replica.port ? true : undefined;
  }, 30_000);
  // The announcement has reached the client while its attempt waits on the frozen Sentinel.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  process.kill(frozen.process.pid, "SIGCONT");
  await eventually("a write through the client to reach the promoted replica", async () => {
    await client.set("after", "2");
    return true;
  }, 30_000);
  const promoted = new Redis({ port: replica.port, host: "127.0.0.1" });
  t.teardown(() => promoted.disconnect());
  t.is(await promoted.get("after"), "2");
});
