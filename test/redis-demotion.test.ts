import test from "ava";
import { Redis } from "ioredis";
import { newRedis } from "@corral/kit";
import { eventually, startTestRedis, startTestSentinel, type TestServer } from "@corral/testkit";

// A connection made through Sentinel to a primary that is then demoted with no +switch-master
// for it to hear (it connected after the announcement, to a primary back for a moment or named
// by a Sentinel not yet told) must find the new primary, not get READONLY for good.
const servers: TestServer[] = [];
test.after.always(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

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
