// Updating a running job on a real cell: a rollout that replaces its tasks a batch at a time,
// gated on their health; changes applied in place; a failed rollout reverted; bad updates refused.
import test from "ava";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "@corral/launcher";
import type { JobView } from "@corral/contracts";
import { eventually, testDir, TestCell } from "@corral/testkit";
import { healthyCount as healthy, webJob, webRoot } from "./support/web-job.js";

let cell: TestCell;
const CLI = join(REPO_ROOT, "services", "cli", "bin", "corral.js");
async function corral(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, "--dir", cell.cell.dir, ...args], { cwd: REPO_ROOT, timeout: 60_000 });
  return stdout;
}
const www = webRoot("rollouts");
const REPLICAS = 4;

test.before(async () => {
  cell = await TestCell.start("rollouts", { borglets: 2 });
});
test.after.always(async () => {
  await cell?.stop();
});

/** The test's web server; `root` is what it serves. */
const web = (name: string, version: string, extra = "", root = www) =>
  webJob({ name, www: root, version, replicas: REPLICAS, update: "max_parallel = 1 min_healthy_time = 500ms healthy_deadline = 4s progress_deadline = 30s", extra });

async function allHealthy(id: string): Promise<JobView> {
  return eventually(`${id}: ${REPLICAS} healthy`, async () => {
    const job = await cell.job(id);
    return healthy(job) === REPLICAS ? job : undefined;
  }, 60_000);
}

/** Watches the job until `until` holds, noting the fewest healthy tasks seen at any sample. */
async function watch(id: string, until: (job: JobView) => boolean, what: string): Promise<{ job: JobView; fewestHealthy: number }> {
  let fewestHealthy = Infinity;
  const job = await eventually(what, async () => {
    const seen = await cell.job(id);
    fewestHealthy = Math.min(fewestHealthy, healthy(seen));
    return until(seen) ? seen : undefined;
  }, 90_000);
  return { job, fewestHealthy };
}

function environOf(pid: number): string {
  return readFileSync(`/proc/${pid}/environ`, "utf8");
}

test.serial("an update of env rolls out one task at a time, each replaced once and healthy before the next; labels then change in place, restarting nothing", async (t) => {
  const submitted = await cell.submit(web("site", "1"));
  const before = await allHealthy(submitted.id);
  t.is(before.revision, 1);

  const update = await cell.client.update("site", web("site", "2"), "site.borg", "borg");
  t.is(update.revision, 2);
  t.deepEqual(update.change, { fields: ["env"], kind: "replace" });
  t.deepEqual(update.replaces, { tasks: REPLICAS, maxParallel: 1 });
  const { job: after, fewestHealthy } = await watch(submitted.id, (job) => job.rollout?.state === "succeeded" && healthy(job) === REPLICAS, "revision 2 rolled out");
  t.true(fewestHealthy >= REPLICAS - 1, `never fewer than ${REPLICAS - 1} healthy (max_parallel 1); saw ${fewestHealthy}`);
  for (const task of after.tasks) {
    const old = before.tasks[task.index]!;
    t.is(task.revision, 2, `task ${task.index} runs revision 2`);
    t.is(task.incarnation, old.incarnation + 1, `task ${task.index} was replaced exactly once`);
    t.is(task.restarts, 0, "a replacement is not a restart");
    t.regex(environOf(task.pid!), /(^|\0)VERSION=2\0/, `task ${task.index}'s process has the new env`);
  }
  t.is(after.rollout?.done, REPLICAS);

  // Labels are no part of a running task: applied at once, same processes.
  const labelled = await cell.client.update("site", web("site", "2", "labels = { tier = 'front' }"), "site.borg", "borg");
  t.deepEqual(labelled.change, { fields: ["labels"], kind: "in-place" });
  t.is(labelled.revision, 3);
  const now = await cell.job(submitted.id);
  t.deepEqual(now.labels, { tier: "front" });
  t.deepEqual(now.tasks.map((task) => task.pid), after.tasks.map((task) => task.pid), "no task restarted");
  t.true(now.tasks.every((task) => task.revision === 3));

  const { revisions } = await cell.client.revisions("site");
  t.deepEqual(
    revisions.map((revision) => [revision.revision, revision.kind, revision.fields.join(","), revision.outcome]),
    [
      [1, "submitted", "", "stable"],
      [2, "replace", "env", "stable"],
      [3, "in-place", "labels", "stable"],
    ],
  );
  // The same spec again changes nothing.
  t.is((await cell.client.update("site", web("site", "2", "labels = { tier = 'front' }"), "site.borg", "borg")).change.kind, "none");
  await cell.client.kill("site", "1s");
});

test.serial("an update whose new tasks never get healthy fails at its deadline and is reverted to the last stable spec, the healthy floor kept throughout", async (t) => {
  const submitted = await cell.submit(web("shop", "1"));
  await allHealthy(submitted.id);
  // Served from a directory with no index: every check answers 404.
  const empty = webRoot("rollouts-empty", false);
  const update = await cell.client.update("shop", web("shop", "2", "", empty), "shop.borg", "borg");
  t.is(update.change.kind, "replace");
  const { job, fewestHealthy } = await watch(submitted.id, (seen) => seen.rollout?.state === "rolled_back" && healthy(seen) === REPLICAS, "the failed revision rolled back");
  t.true(fewestHealthy >= REPLICAS - 1, `never fewer than ${REPLICAS - 1} healthy; saw ${fewestHealthy}`);
  t.is(job.revision, 3, "the revert is a revision of its own");
  t.true(job.tasks.every((task) => task.revision === 3 && environOf(task.pid!).includes("VERSION=1\0")), "every task runs revision 1's spec again");
  const { revisions } = await cell.client.revisions("shop");
  t.deepEqual(
    revisions.map((revision) => [revision.revision, revision.kind, revision.outcome]),
    [
      [1, "submitted", "stable"],
      [2, "replace", "rolled_back"],
      [3, "revert", "stable"],
    ],
  );
  const events = (await cell.client.events("shop")).events.map((event) => event.text);
  t.true(events.some((text) => /^revision 2 failed: task \d+ not healthy within 4s$/.test(text)), events.join("\n"));
  t.true(events.some((text) => /^rolled back to revision 1's spec \(revision 3\) after revision 2 failed$/.test(text)), events.join("\n"));
  await cell.client.kill("shop", "1s");
});

test.serial("bad updates are refused naming the field, and change nothing", async (t) => {
  const submitted = await cell.submit(web("cafe", "1"));
  await allHealthy(submitted.id);
  const renamed = await cell.client.send("PUT", "/v1/jobs/cafe", { source: web("bistro", "1"), file: "bistro.borg" });
  t.is(renamed.status, 400);
  t.regex(JSON.stringify(renamed.body), /the spec is of job bistro\.[a-z]+\.[a-z0-9-]+, not cafe\./);
  const unknown = await cell.client.send("PUT", "/v1/jobs/cafe", { source: web("cafe", "2").replace(/update = \{[^\n]*\}/, "update = { max_paralel = 2 }"), file: "cafe.borg" });
  t.is(unknown.status, 400);
  t.regex(JSON.stringify(unknown.body), /update\.max_paralel/);
  // An admin may submit for others, but not move a job to another owner.
  const reowned = await cell.client.send("PUT", "/v1/jobs/cafe", { source: web("cafe", "2", "user = 'bob'"), file: "cafe.borg" });
  t.is(reowned.status, 400);
  t.regex(JSON.stringify(reowned.body), /"field":"user"/);
  t.regex(JSON.stringify(reowned.body), /a job's owner cannot change/);
  const missing = await cell.client.send("PUT", "/v1/jobs/nothere", { source: web("nothere", "1"), file: "nothere.borg" });
  t.is(missing.status, 404);
  const unchanged = await cell.job(submitted.id);
  t.is(unchanged.revision, 1);
  t.is(unchanged.rollout, undefined);
  await cell.client.kill("cafe", "1s");
});

test.serial("through the CLI: diff, an update held at its canary and promoted, a pause and resume, undo to revision 1, and the history", async (t) => {
  const specs = testDir("rollouts-specs");
  const file = (version: string) => {
    const path = join(specs, `deli-${version}.borg`);
    // Slow batches (3 s healthy each), so a pause lands while tasks are still to be replaced.
    writeFileSync(path, webJob({ name: "deli", www, version, replicas: REPLICAS, update: "canary = 1 max_parallel = 1 min_healthy_time = 3s healthy_deadline = 60s progress_deadline = 120s" }));
    return path;
  };
  const submitted = await cell.submit(readFileSync(file("1"), "utf8"));
  await allHealthy(submitted.id);
  t.regex(await corral("diff", file("2")), /^deli: revision 2 changes env\n {2}4 tasks replaced, 1 at a time/);
  t.is((await cell.job(submitted.id)).revision, 1, "diff changes nothing");

  await corral("up", file("2"), "--yes");
  const held = (await watch(submitted.id, (job) => job.rollout?.state === "awaiting_promotion", "held at its canary")).job;
  t.is(held.tasks.filter((task) => task.revision === 2).length, 1, "one canary of revision 2");
  t.is(held.tasks.filter((task) => task.revision === 1 && task.state === "running").length, REPLICAS - 1, "the rest untouched");

  // Paused through the API at once after the promotion (a CLI process takes a while to start on
  // a busy machine), so the batches left are still to come.
  t.regex(await corral("rollout", "promote", "deli"), /revision 2 running/);
  t.is((await cell.client.rollout("deli", "pause")).job.rollout?.state, "paused");
  // Paused: what was started may finish, but no task of revision 1 is replaced.
  const paused = (await watch(submitted.id, (job) => job.tasks.every((task) => task.state === "running" && task.health === "healthy"), "the replaced tasks settled")).job;
  const behind = paused.tasks.filter((task) => task.revision === 1);
  t.true(behind.length > 0, "tasks were left to replace when it paused");
  for (let look = 0; look < 10; look++) {
    const now = await cell.job(submitted.id);
    for (const task of behind) t.is(now.tasks[task.index]!.incarnation, task.incarnation, `task ${task.index} was not replaced while paused`);
  }
  t.regex(await corral("rollout", "status", "deli"), /revision 2 paused/);
  await corral("rollout", "resume", "deli");
  await watch(submitted.id, (job) => job.rollout?.state === "succeeded" && job.tasks.every((task) => task.revision === 2), "revision 2 rolled out");

  t.regex(await corral("rollout", "undo", "deli", "--to-revision", "1"), /is at revision 3/);
  const undone = (await watch(submitted.id, (job) => job.rollout?.revision === 3 && job.rollout.state === "succeeded" && healthy(job) === REPLICAS, "back on revision 1's spec")).job;
  t.true(undone.tasks.every((task) => environOf(task.pid!).includes("VERSION=1\0")));
  const history = JSON.parse(await corral("history", "deli", "--json")) as { revisions: { revision: number; kind: string; by: string; outcome: string }[] };
  t.deepEqual(history.revisions.map((revision) => [revision.revision, revision.kind, revision.outcome]), [
    [1, "submitted", "stable"],
    [2, "replace", "stable"],
    [3, "revert", "stable"],
  ]);
  t.regex(await corral("rollout", "status", "deli"), /revision 3 succeeded \(4\/4 updated and healthy\)/);
  await cell.client.kill("deli", "1s");
});
