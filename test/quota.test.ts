import test from "ava";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestCell, testDir } from "@corral/testkit";

let cell: TestCell;
test.before(async () => {
  const dir = testDir("quota-file");
  mkdirSync(dir, { recursive: true });
  const quotaFile = join(dir, "quota.yaml");
  writeFileSync(quotaFile, "users:\n  tester:\n    production: { cpu: 1, ram: 1G }\n");
  cell = await TestCell.start("quota", { masters: 1, borglets: 1, quotaFile });
});
test.after.always(async () => {
  await cell?.stop();
});

const job = (name: string, priority: string, replicas: number) =>
  `job ${name} = { runtime = { cell = 'local' } binary = 'sleep' args = ['600'] priority = '${priority}' requirements = { cpu = 0.5 ram = 16M disk = 1M } replicas = ${replicas} }`;

test.serial("a job over its user's quota is refused with 403, saying how far over for which resource, and nothing changes", async (t) => {
  const refused = await cell.http<{ error: { code: string; message: string; field?: string } }>("POST", "/v1/jobs", { file: "job.borg", source: job("greedy", "production", 3) });
  t.is(refused.status, 403);
  t.is(refused.body.error.code, "quota_exceeded");
  t.regex(refused.body.error.message, /past the production quota: cpu 1\.5 cores of 1 cores \(0\.5 cores over\)/);
  t.is(refused.body.error.field, "replicas");
  t.false((await cell.jobs()).some((j) => j.name === "greedy"), "nothing was added");
});

test.serial("within quota is accepted, and what it holds counts against the next job", async (t) => {
  const first = await cell.http("POST", "/v1/jobs", { file: "job.borg", source: job("fits", "production", 2) });
  t.is(first.status, 201);
  const second = await cell.http<{ error: { message: string } }>("POST", "/v1/jobs", { file: "job.borg", source: job("one_more", "production", 1) });
  t.is(second.status, 403);
  t.regex(second.body.error.message, /cpu 1\.5 cores of 1 cores/);
});

test.serial("a band without quota granted is refused; best-effort needs none", async (t) => {
  const batch = await cell.http<{ error: { message: string } }>("POST", "/v1/jobs", { file: "job.borg", source: job("batchy", "batch", 1) });
  t.is(batch.status, 403);
  t.regex(batch.body.error.message, /batch quota: cpu 0\.5 cores of 0 cores/);
  const bestEffort = await cell.http("POST", "/v1/jobs", { file: "job.borg", source: job("scavenger", "best-effort", 4) });
  t.is(bestEffort.status, 201);
});
