import test from "ava";
import { TestCell, eventually, processExists } from "@corral/testkit";

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("partition", { masters: 1, borglets: 2, downAfterMs: 2000 });
});
test.after.always(async () => {
  await cell?.stop();
});

test("a machine cut off past down-after, whose tasks were rescheduled, kills its stale copies when it comes back", async (t) => {
  const submitted = await cell.submit(`job lonely = {
  binary = 'hello_world_webserver'
  args = { port = '%port%' }
  requirements = { ram = 20M  cpu = 0.01 }
  replicas = 2
}`);
  const before = await eventually("running", async () => {
    const job = await cell.job(submitted.id);
    return job.summary.running === 2 ? job : undefined;
  }, 20_000);
  const victim = before.tasks[0]!.node!;
  const stalePids = before.tasks.filter((task) => task.node === victim).map((task) => task.pid!);

  // SIGSTOP stands in for a network partition: the borglet is silent but its tasks keep running.
  cell.kill(victim, "SIGSTOP");
  const moved = await eventually("tasks rescheduled elsewhere", async () => {
    const job = await cell.job(submitted.id);
    return job.tasks.every((task) => task.state === "running" && task.node !== victim) ? job : undefined;
  }, 20_000);
  t.true(stalePids.every(processExists), "the cut-off machine still runs its old copies");

  cell.kill(victim, "SIGCONT");
  await eventually("the stale copies killed", () => (stalePids.every((pid) => !processExists(pid)) ? true : undefined), 20_000);
  const after = await cell.job(submitted.id);
  t.deepEqual(
    after.tasks.map((task) => [task.node, task.pid, task.incarnation]),
    moved.tasks.map((task) => [task.node, task.pid, task.incarnation]),
    "the rescheduled copies are untouched",
  );
  t.is((await cell.nodes()).find((node) => node.name === victim)?.state, "up", "the machine is back");
});
