// A rollout outlives its leader: the new leader goes on from the committed state, and no task
// is replaced twice or skipped.
import test from "ava";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, testDir, TestCell } from "@corral/testkit";

let cell: TestCell;
const www = join(testDir("rollout-failover"), "www");
const REPLICAS = 6;

test.before(async () => {
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, "index.html"), "ok\n");
  cell = await TestCell.start("rollout-failover", { masters: 3, borglets: 2, leaseTtlMs: 2000 });
});
test.after.always(async () => {
  await cell?.stop();
});

const web = (version: string) => `job relay = {
  binary = '/bin/busybox'
  args = ['httpd', '-f', '-p', '%port%', '-h', '${www}']
  env = { VERSION = '${version}' }
  requirements = { cpu = 0.01 ram = 16M ports = 1 }
  replicas = ${REPLICAS}
  grace = 1s
  health = { http = { path = '/' } interval = 200ms timeout = 150ms failures = 2 }
  update = { max_parallel = 1 min_healthy_time = 1s healthy_deadline = 30s progress_deadline = 60s }
}`;

test("the leader SIGKILLed mid-rollout: the next one finishes it, each task replaced exactly once", async (t) => {
  const submitted = await cell.submit(web("1"));
  const before = await eventually("all healthy", async () => {
    const job = await cell.job(submitted.id);
    return job.tasks.filter((task) => task.state === "running" && task.health === "healthy").length === REPLICAS ? job : undefined;
  }, 60_000);
  await cell.client.update("relay", web("2"), "relay.borg", "borg");
  await eventually("two tasks rolled", async () => ((await cell.job(submitted.id)).rollout?.done ?? 0) >= 2 || undefined, 60_000);
  const leader = await cell.leader();
  cell.kill(leader.replica, "SIGKILL");
  await cell.exited(leader.replica);
  const after = await eventually("the rollout finished under the next leader", async () => {
    const job = await cell.job(submitted.id);
    // A failure (and its revert) ends the wait too, and the assertions below say what went wrong.
    return job.rollout?.state === "succeeded" || job.rollout?.revertOf !== undefined ? job : undefined;
  }, 100_000);
  t.is(after.rollout?.state, "succeeded", after.rollout?.message);
  t.not((await cell.leader()).replica, leader.replica);
  for (const task of after.tasks) {
    t.is(task.revision, 2, `task ${task.index} runs revision 2`);
    t.is(task.incarnation, before.tasks[task.index]!.incarnation + 1, `task ${task.index} was replaced exactly once`);
  }
  t.is(after.rollout?.done, REPLICAS);
});
