import test from "ava";
import { TestCell, eventually } from "@corral/testkit";

const JOB = `
job spread = {
  binary = 'hello_world_webserver'
  args = { port = '%port%' }
  requirements = { ram = 50M  cpu = 0.1 }
  replicas = 4
}`;

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("machine-loss", { borglets: 3, downAfterMs: 5000 });
});
test.after.always(async () => {
  await cell?.stop();
});

test("SIGKILL a borglet: its tasks come back as running elsewhere within 10 s, with reason kept", async (t) => {
  const submitted = await cell.submit(JOB);
  const running = await eventually(
    "all 4 tasks running",
    async () => {
      const job = await cell.job(submitted.id);
      return job.summary.running === 4 ? job : undefined;
    },
    30_000,
  );
  const counts = new Map<string, number>();
  for (const task of running.tasks) counts.set(task.node!, (counts.get(task.node!) ?? 0) + 1);
  const [victim] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
  const moved = running.tasks.filter((task) => task.node === victim).map((task) => task.index);

  cell.kill(victim, "SIGKILL");
  const killedAt = Date.now();
  const recovered = await eventually(
    `tasks of ${victim} running elsewhere`,
    async () => {
      const job = await cell.job(submitted.id);
      const done = job.tasks.every((task) => task.state === "running" && task.node !== victim);
      return done ? job : undefined;
    },
    10_000,
  );
  t.log(`recovered in ${Date.now() - killedAt} ms`);
  for (const index of moved) {
    const task = recovered.tasks[index]!;
    t.not(task.node, victim);
    t.is(task.incarnation, 1, "a rescheduled task runs as its next incarnation");
    t.is(task.reason, "machine lost");
    t.is(task.reasonCode, "machine_lost", "and its code, for programs");
  }
  const nodes = await cell.nodes();
  t.is(nodes.find((node) => node.name === victim)?.state, "down");
});
