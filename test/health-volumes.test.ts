import test from "ava";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "@corral/launcher";
import type { JobView } from "@corral/contracts";
import { eventually, TestCell } from "@corral/testkit";
import { pushBusyboxImage } from "./support/busybox-image.js";

let cell: TestCell;
let www: string;
test.before(async () => {
  cell = await TestCell.start("health", { masters: 1, borglets: 1 });
  const root = await pushBusyboxImage(cell, "tools:1", { applets: ["cat", "wc", "sleep", "echo"], files: { "www/index.html": "ok\n", "data/.keep": "" } });
  www = join(root, "www");
});
test.after.always(async () => {
  await cell?.stop();
});

const httpd = (name: string, path: string) => `job ${name} = {
  binary = '/bin/busybox'
  args = ['httpd', '-f', '-p', '%port%', '-h', '${www}']
  requirements = { cpu = 0.01 ram = 16M ports = 1 }
  replicas = 1
  grace = 1s
  health = { http = { path = '${path}' } interval = 1s timeout = 1s failures = 2 }
}`;

async function view(id: string, until: (job: JobView) => boolean, what: string): Promise<JobView> {
  return eventually(what, async () => {
    const job = await cell.job(id);
    return until(job) ? job : undefined;
  }, 30_000);
}

test("a task passing its http check shows healthy; one failing it is restarted, with the check's answer as reason", async (t) => {
  const good = await cell.submit(httpd("good", "/"));
  await view(good.id, (job) => job.tasks[0]!.health === "healthy", "good healthy");
  const ps = await promisify(execFile)(process.execPath, [join(REPO_ROOT, "services", "cli", "bin", "corral.js"), "--dir", cell.cell.dir, "ps", "good"], { cwd: REPO_ROOT });
  t.regex(ps.stdout, /HEALTH[\s\S]*healthy/, "ps shows the verdict");
  const bad = await cell.submit(httpd("bad", "/healthz"));
  const restarted = await view(bad.id, (job) => job.tasks[0]!.restarts >= 1, "bad restarted");
  t.regex(restarted.tasks[0]!.reason ?? "", /^unhealthy: GET \/healthz answered 404 \(2 failed checks in a row\)/);
  t.is((await cell.job(good.id)).tasks[0]!.restarts, 0, "the healthy one was left alone");
});

test("a named volume outlives the task's restarts on its machine", async (t) => {
  const job = await cell.submit(`job counter = {
  image = 'tools:1'
  binary = 'sh'
  args = ['-c', 'echo run >> /data/runs; sleep 0.2; exit 1']
  requirements = { cpu = 0.01 ram = 16M }
  replicas = 1
  restart = 'always'
  volumes = [ { volume = 'state' path = '/data' } ]
}`);
  await view(job.id, (j) => j.tasks[0]!.restarts >= 2, "two restarts");
  const runs = readFileSync(join(cell.cell.dir, "borglets", "borglet-0", "volumes", "tester", "state", "runs"), "utf8").trim().split("\n");
  t.true(runs.length >= 2, `the file kept ${runs.length} runs`);
});
