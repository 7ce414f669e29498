import test from "ava";
import type { JobView } from "@corral/contracts";
import { TestCell, eventually } from "@corral/testkit";

// A long lease gives a window with a frozen leader and no new one yet.
let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("standby-reads", { masters: 3, borglets: 1, leaseTtlMs: 8000 });
});
test.after.always(async () => {
  await cell?.stop();
});

test("while the leader is frozen, status comes from a standby's copy of the state, marked stale", async (t) => {
  const submitted = await cell.submit(`job copied = {
  binary = 'hello_world_webserver'
  args = { port = '%port%' }
  requirements = { ram = 20M  cpu = 0.01 }
  replicas = 2
}`);
  const running = await eventually("running", async () => {
    const job = await cell.job(submitted.id);
    return job.summary.running === 2 ? job : undefined;
  }, 20_000);
  const leader = await cell.leader();
  cell.kill(leader.replica, "SIGSTOP");
  t.teardown(() => {
    if (cell.alive(leader.replica)) cell.kill(leader.replica, "SIGCONT");
  });
  const answer = await cell.http<{ job: JobView; stale: boolean; servedBy?: string }>("GET", `/v1/jobs/${submitted.id}`);
  t.is(answer.status, 200);
  t.true(answer.body.stale, "marked stale: no leader answered");
  t.not(answer.body.servedBy, leader.replica);
  t.regex(answer.body.servedBy ?? "", /^master-\d$/);
  t.deepEqual(
    answer.body.job.tasks.map((task) => [task.index, task.state, task.pid, task.node]),
    running.tasks.map((task) => [task.index, task.state, task.pid, task.node]),
    "the standby's copy has every committed change",
  );
  const list = await cell.http<{ jobs: JobView[]; stale: boolean }>("GET", "/v1/jobs");
  t.true(list.body.stale);
  t.true(list.body.jobs.some((job) => job.id === submitted.id));
  cell.kill(leader.replica, "SIGCONT");
  const fresh = await eventually("a leader answers again", async () => {
    const again = await cell.http<{ stale: boolean }>("GET", `/v1/jobs/${submitted.id}`);
    return again.body.stale === false ? again : undefined;
  }, 20_000);
  t.is(fresh.status, 200);
});
