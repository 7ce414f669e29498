import test from "ava";
import { existsSync, readFileSync } from "node:fs";
import { TestCell, eventually } from "@corral/testkit";

// One borglet, so the lost task has nowhere else to go while its machine is frozen.
let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("short-tasks-late-exit", { borglets: 1, downAfterMs: 1500 });
});
test.after.always(async () => {
  await cell?.stop();
});

const JOB = `
job once = {
  binary = '/bin/sh'
  args = ['-c', 'sleep 2']
  restart = 'never'
  requirements = { ram = 10M  cpu = 0.01 }
  replicas = 1
}`;

test("a batch task that exits 0 while its machine is marked down is done when the exit is finally reported, and never runs twice", async (t) => {
  const job = await cell.submit(JOB);
  const running = await eventually("the task running", async () => (await cell.job(job.id)).tasks.find((task) => task.state === "running" && task.pid !== undefined), 60_000);
  // Freeze the borglet (and its spawn helper): the task runs on, the machine goes silent.
  cell.kill("borglet-0", "SIGSTOP");
  try {
    const lost = await eventually("the machine marked down and the task given up", async () => {
      const task = (await cell.job(job.id)).tasks[0]!;
      return task.state === "pending" && task.reason === "machine lost" ? task : undefined;
    }, 60_000);
    t.is(lost.incarnation, 1);
    // Its run finishes while no one can report it.
    await eventually("the task's process gone", () => (existsSync(`/proc/${running.pid}`) && !isZombie(running.pid!) ? undefined : true), 60_000);
  } finally {
    cell.kill("borglet-0", "SIGCONT");
  }
  const done = await eventually("the task done", async () => {
    const task = (await cell.job(job.id)).tasks[0]!;
    return task.state === "dead" ? task : undefined;
  }, 60_000);
  t.is(done.exitCode, 0);
  t.regex(done.reason ?? "", /reported after its machine was marked down/);
  const starts = cell.logOf("borglet-0").split("\n").filter((line) => line.includes('"msg":"task started"') && line.includes(`"task":"0.${job.id}"`));
  t.is(starts.length, 1, "started once");
  t.true(cell.logOf("master-0").includes("machine down") || cell.logOf("master-1").includes("machine down"));
});

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}
