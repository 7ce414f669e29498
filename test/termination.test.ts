import test from "ava";
import { join } from "node:path";
import { REPO_ROOT } from "@corral/kit";
import { TestCell, eventually, processExists } from "@corral/testkit";

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("termination", { masters: 1, borglets: 1 });
});
test.after.always(async () => {
  await cell?.stop();
});

const STUBBORN = `
job stubborn = {
  binary = '${join(REPO_ROOT, "test", "fixtures", "bin", "ignores_sigterm")}'
  requirements = { ram = 10M  cpu = 0.01 }
  replicas = 2
  grace = 1s
}`;

test("kill: SIGTERM first, SIGKILL after the grace period for a task that ignores it", async (t) => {
  const job = await cell.submit(STUBBORN);
  const running = await eventually("tasks running", async () => {
    const view = await cell.job(job.id);
    return view.summary.running === 2 ? view : undefined;
  }, 20_000);
  const pids = running.tasks.map((task) => task.pid!);
  t.true(pids.every(processExists));

  t.is((await cell.http("DELETE", `/v1/jobs/${job.id}`)).status, 202);
  const dead = await eventually("tasks dead", async () => {
    const view = await cell.job(job.id);
    return view.summary.dead === 2 ? view : undefined;
  }, 20_000);
  for (const task of dead.tasks) t.is(task.reason, "killed by user (terminated by SIGKILL)");
  t.true(pids.every((pid) => !processExists(pid)));
  const stdout = await cell.http<string>("GET", `/v1/jobs/${job.id}/tasks/0/logs`);
  t.regex(stdout.body, /got SIGTERM, ignoring it/, "SIGTERM came first");
});

test("a task that exits on SIGTERM is not SIGKILLed, and its exit code is kept", async (t) => {
  const job = await cell.submit(`
job polite = {
  binary = 'hello_world_webserver'
  args = { port = '%port%' }
  requirements = { ram = 10M  cpu = 0.01 }
  replicas = 1
  grace = 30s
}`);
  const running = await eventually("running", async () => {
    const view = await cell.job(job.id);
    return view.summary.running === 1 ? view : undefined;
  }, 20_000);
  // "running" means the process exists; its SIGTERM handler is in place once it answers.
  const { host, port } = running.tasks[0]!;
  await eventually("the server answers", async () => ((await fetch(`http://${host}:${port}/`).catch(() => undefined))?.ok ? true : undefined), 20_000);
  await cell.http("DELETE", `/v1/jobs/${job.id}`);
  const dead = await eventually("dead", async () => {
    const view = await cell.job(job.id);
    return view.summary.dead === 1 ? view : undefined;
  }, 20_000);
  t.is(dead.tasks[0]!.reason, "killed by user (exited with code 0)");
  t.is(dead.tasks[0]!.exitCode, 0);
});

test("a task that exits on its own is restarted under restart=always, as its next incarnation", async (t) => {
  const job = await cell.submit(`
job flaky = {
  binary = '/bin/sh'
  args = ['-c', 'echo run; sleep 0.3; exit 3']
  requirements = { ram = 10M  cpu = 0.01 }
  replicas = 1
  restart = 'always'
}`);
  const restarted = await eventually("a restart", async () => {
    const view = await cell.job(job.id);
    return view.tasks[0]!.restarts >= 2 ? view : undefined;
  }, 20_000);
  t.is(restarted.tasks[0]!.reason, "exited with code 3");
  t.true(restarted.tasks[0]!.incarnation >= 2);
  await cell.http("DELETE", `/v1/jobs/${job.id}`);
});

test("a binary that does not exist fails the task with the places it was sought", async (t) => {
  const job = await cell.submit(`
job missing = {
  binary = 'no_such_program_anywhere'
  requirements = { ram = 10M  cpu = 0.01 }
  replicas = 1
}`);
  const dead = await eventually("dead", async () => {
    const view = await cell.job(job.id);
    return view.summary.dead === 1 ? view : undefined;
  }, 20_000);
  t.regex(dead.tasks[0]!.reason ?? "", /^failed to start: binary 'no_such_program_anywhere' not found \(looked in .*deploy\/examples\/bin/);
});
