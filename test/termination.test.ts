import test from "ava";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "@corral/launcher";
import { TestCell, eventually, processExists } from "@corral/testkit";

const run = promisify(execFile);
const CLI = join(REPO_ROOT, "services", "cli", "bin", "corral.js");

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
  // First in the cell's own copy of the example binaries, then the PATH.
  t.true((dead.tasks[0]!.reason ?? "").startsWith(`failed to start: binary 'no_such_program_anywhere' not found (looked in ${cell.cell.dir}/bin/no_such_program_anywhere, `), dead.tasks[0]!.reason);
});

test("corral kill --grace 0s stops a task that ignores SIGTERM at once, whatever its own grace; a bad grace is refused", async (t) => {
  const job = await cell.submit(STUBBORN.replace("stubborn", "patient").replace("grace = 1s", "grace = 1h"));
  const running = await eventually("running", async () => {
    const view = await cell.job(job.id);
    return view.summary.running === 2 ? view : undefined;
  }, 20_000);
  const bad = await cell.http<{ error: { message: string } }>("DELETE", `/v1/jobs/${job.id}?grace=soon`);
  t.is(bad.status, 400);
  t.regex(bad.body.error.message, /grace/);
  t.is((await cell.job(job.id)).summary.running, 2, "a refused kill changes nothing");
  const killedAt = Date.now();
  const { stdout } = await run(process.execPath, [CLI, "--dir", cell.cell.dir, "kill", "patient", "--grace", "0s", "--wait", "--json"], { cwd: REPO_ROOT, timeout: 60_000 });
  const dead = (JSON.parse(stdout) as { job: { summary: { dead: number }; tasks: { reason?: string }[] } }).job;
  t.is(dead.summary.dead, 2);
  t.true(Date.now() - killedAt < 30_000, "not the job's hour of grace");
  for (const task of dead.tasks) t.is(task.reason, "killed by user (terminated by SIGKILL)");
  t.true(running.tasks.every((task) => !processExists(task.pid!)));
});

test("corral logs --follow prints what the task writes as it writes it, and ends when the task does", async (t) => {
  const job = await cell.submit(`
job talker = {
  binary = '/bin/sh'
  args = ['-c', 'for i in 1 2 3 4 5 6; do echo line $i; sleep 0.3; done']
  requirements = { ram = 10M  cpu = 0.01 }
  replicas = 1
  restart = 'never'
}`);
  await eventually("talker running", async () => ((await cell.job(job.id)).summary.running === 1 ? true : undefined), 20_000);
  const { stdout } = await run(process.execPath, [CLI, "--dir", cell.cell.dir, "logs", "talker", "0", "--follow"], { cwd: REPO_ROOT, timeout: 60_000 });
  t.is(stdout, "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n", "every line once, in order, up to the task's end");
  t.is((await cell.job(job.id)).summary.dead, 1);
});
