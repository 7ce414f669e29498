import test from "ava";
import { scaleJob, subjects, type JobView } from "@corral/contracts";
import { callRpc, type NatsConnection } from "@corral/kit";
import { TestCell, eventually, processExists } from "@corral/testkit";

let cell: TestCell;
let nc: NatsConnection;
test.before(async () => {
  cell = await TestCell.start("scale", { masters: 1, borglets: 2 });
  nc = await cell.connectAs("operator");
});
test.after.always(async () => {
  await nc?.drain().catch(() => {});
  await cell?.stop();
});

/** The leader's scale verb, as the federation gateway calls it (no gateway route yet). */
async function scale(job: string, replicas: number): Promise<JobView> {
  const name = cell.cell.cell;
  return (await callRpc(nc, subjects.api(name, "scale"), scaleJob, name, { job, replicas }, { timeoutMs: 5000 })).job;
}

async function whenRunning(id: string, count: number): Promise<JobView> {
  return eventually(`${count} tasks running`, async () => {
    const view = await cell.job(id);
    return view.summary.running === count ? view : undefined;
  }, 20_000);
}

test("scale a job up and down on a real cell: new tasks run, removed ones stop, the one that stays keeps its process", async (t) => {
  const job = await cell.submit(`
job sleeper = {
  binary = '/bin/sleep'
  args = ['3600']
  requirements = { ram = 10M  cpu = 0.01 }
  replicas = 2
  grace = 2s
}`);
  const first = await whenRunning(job.id, 2);
  const pid0 = first.tasks[0]!.pid!;
  t.true(processExists(pid0));

  const up = await scale(job.id, 4);
  t.is(up.replicas, 4);
  t.is(up.tasks.length, 4);
  const four = await whenRunning(job.id, 4);
  t.is(four.tasks[0]!.pid, pid0, "task 0 is not touched by the scale up");
  const removed = four.tasks.slice(1).map((task) => task.pid!);
  t.true(removed.every(processExists));

  const down = await scale(job.id, 1);
  t.is(down.replicas, 1);
  const after = await eventually("tasks 1..3 dead", async () => {
    const view = await cell.job(job.id);
    return view.summary.dead === 3 ? view : undefined;
  }, 20_000);
  for (const task of after.tasks.slice(1)) {
    t.is(task.state, "dead");
    t.regex(task.reason ?? "", /^scaled down to 1 replica \(/, `task ${task.index}: ${task.reason}`);
  }
  await eventually("their processes gone", () => (removed.some(processExists) ? undefined : true), 10_000);
  t.is(after.tasks[0]!.state, "running");
  t.is(after.tasks[0]!.pid, pid0, "task 0 keeps its process");
  t.true(processExists(pid0));

  const again = await scale(job.id, 1);
  t.is(again.replicas, 1, "a repeat answers the same job");
  t.deepEqual(again.summary, after.summary, "and changes nothing");

  // Up again: the dead index 1 gets a fresh task; task 0 still untouched.
  await scale(job.id, 2);
  const two = await whenRunning(job.id, 2);
  t.is(two.tasks[0]!.pid, pid0);
  t.not(two.tasks[1]!.pid, removed[0]);
  t.deepEqual(two.tasks.slice(2).map((task) => task.state), ["dead", "dead"]);
});
