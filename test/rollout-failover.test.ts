// A rollout outlives its leader: the new leader goes on from the committed state, and no task
// is replaced twice or skipped.
import test from "ava";
import { eventually, TestCell } from "@corral/testkit";
import { healthyCount, webJob, webRoot } from "./support/web-job.js";

let cell: TestCell;
const www = webRoot("rollout-failover");
const REPLICAS = 6;

test.before(async () => {
  cell = await TestCell.start("rollout-failover", { masters: 3, borglets: 2, leaseTtlMs: 2000 });
});
test.after.always(async () => {
  await cell?.stop();
});

const web = (version: string) => webJob({ name: "relay", www, version, replicas: REPLICAS, update: "max_parallel = 1 min_healthy_time = 1s healthy_deadline = 30s progress_deadline = 60s" });

test("the leader SIGKILLed mid-rollout: the next one finishes it, each task replaced exactly once", async (t) => {
  const submitted = await cell.submit(web("1"));
  const before = await eventually("all healthy", async () => {
    const job = await cell.job(submitted.id);
    return healthyCount(job) === REPLICAS ? job : undefined;
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
