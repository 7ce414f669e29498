import test from "ava";
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { HistoryEntry } from "@corral/contracts";
import { REPO_ROOT } from "@corral/launcher";
import { eventually, TestCell } from "@corral/testkit";

const run = promisify(execFile);
const CLI = join(REPO_ROOT, "services", "cli", "bin", "corral.js");

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("events", { masters: 2, borglets: 2, downAfterMs: 2000 });
});
test.after.always(async () => {
  await cell?.stop();
});

test.serial("a job's history: submitted, scheduled, started, machine lost, and again; corral events prints it", async (t) => {
  const job = await cell.submit("job story = { binary = '/bin/sleep' args = ['600'] requirements = { ram = 8M cpu = 0.01 } replicas = 1 grace = 1s }");
  const first = await eventually("running", async () => {
    const view = await cell.job(job.id);
    return view.summary.running === 1 ? view : undefined;
  }, 30_000);
  cell.kill(first.tasks[0]!.node!, "SIGKILL");
  await eventually("running elsewhere", async () => {
    const view = await cell.job(job.id);
    return view.summary.running === 1 && view.tasks[0]!.incarnation === 1 ? view : undefined;
  }, 30_000);
  const events = await eventually("the whole story kept", async () => {
    const answer = await cell.http<{ events: HistoryEntry[] }>("GET", `/v1/jobs/${job.id}/events`);
    return answer.body.events.filter((event) => event.kind === "started").length === 2 ? answer.body.events : undefined;
  }, 10_000);
  t.deepEqual(events.map((event) => event.kind), ["submitted", "scheduled", "started", "lost", "scheduled", "started"]);
  t.is(events[3]!.text, "machine lost");
  t.regex(events[1]!.text, new RegExp(`^scheduled on ${first.tasks[0]!.node}$`));
  const { stdout } = await run(process.execPath, [CLI, "--dir", cell.cell.dir, "events", "story"], { cwd: REPO_ROOT, timeout: 60_000 });
  t.regex(stdout, /submitted: 1 tasks, production/);
  t.regex(stdout, /lost\s+│?\s*machine lost/);
});

test.serial("corral ps --watch prints each task change as it happens", async (t) => {
  const job = await cell.submit("job watched = { binary = '/bin/sleep' args = ['600'] requirements = { ram = 8M cpu = 0.01 } replicas = 1 grace = 1s }");
  await eventually("running", async () => ((await cell.job(job.id)).summary.running === 1 ? true : undefined), 30_000);
  const watcher = spawn(process.execPath, [CLI, "--dir", cell.cell.dir, "ps", "watched", "--watch", "--json"], { cwd: REPO_ROOT });
  let output = "";
  watcher.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  try {
    await eventually("the first table", () => (output.includes("\n") ? true : undefined), 60_000); // a CLI started under a full test run's load
    await cell.http("DELETE", `/v1/jobs/${job.id}`);
    await eventually("the task's death watched", () => (/"to":"dead"/.test(output) ? true : undefined), 20_000);
  } finally {
    watcher.kill("SIGINT");
  }
  const changes = output.trim().split("\n").slice(1).map((line) => JSON.parse(line) as { task: string; from?: string; to: string });
  t.true(changes.every((change) => change.task === "0.watched.tester.local"));
  t.is(changes.at(-1)!.to, "dead");
  t.true(changes.some((change) => change.from === "running"), JSON.stringify(changes));
});

test.serial("labels select jobs: corral ps -l and GET /v1/jobs?selector=; a bad selector is refused, naming the term", async (t) => {
  await cell.submit("job front = { binary = '/bin/sleep' args = ['600'] requirements = { ram = 8M cpu = 0.01 } replicas = 1 labels = { tier = 'web' env = 'prod' } }");
  await cell.submit("job back = { binary = '/bin/sleep' args = ['600'] requirements = { ram = 8M cpu = 0.01 } replicas = 1 labels = { tier = 'db' } }");
  const { stdout } = await run(process.execPath, [CLI, "--dir", cell.cell.dir, "ps", "-l", "tier=web", "--json"], { cwd: REPO_ROOT, timeout: 60_000 });
  const listed = JSON.parse(stdout) as { jobs: { name: string; labels: Record<string, string> }[] };
  t.deepEqual(listed.jobs.map((job) => job.name), ["front"]);
  t.deepEqual(listed.jobs[0]!.labels, { tier: "web", env: "prod" });
  const notProd = await cell.http<{ jobs: { name: string }[] }>("GET", "/v1/jobs?user=tester&selector=tier,env!=prod");
  t.deepEqual(notProd.body.jobs.map((job) => job.name), ["back"]);
  const bad = await cell.http<{ error: { field: string; message: string } }>("GET", "/v1/jobs?selector=tier%3D%3Dweb%2C%21env%3Dprod");
  t.is(bad.status, 400);
  t.regex(bad.body.error.message, /selector term '!env=prod' negates a comparison/);
  const refused = await run(process.execPath, [CLI, "--dir", cell.cell.dir, "ps", "-l", "ti er=web"], { cwd: REPO_ROOT }).catch((error: { code: number; stderr: string }) => error);
  t.is((refused as { code: number }).code, 1);
  t.regex((refused as { stderr: string }).stderr, /selector term 'ti er=web'/);
});
