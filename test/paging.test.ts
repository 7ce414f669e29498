import test from "ava";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { JobView } from "@corral/contracts";
import { REPO_ROOT } from "@corral/launcher";
import { TestCell } from "@corral/testkit";

const run = promisify(execFile);
const CLI = join(REPO_ROOT, "services", "cli", "bin", "corral.js");

// Jobs that fit no machine stay pending: their task lists are real, and nothing runs.
const pendingJob = (name: string, replicas: number, labels = "") => `job ${name} = { binary = '/bin/sleep' args = ['600'] requirements = { ram = 900G cpu = 0.01 } replicas = ${replicas} ${labels} }`;
const SMALL = ["p0", "p1", "p2", "p3", "p4"];

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("paging", { masters: 2, borglets: 1 });
  for (const [i, name] of SMALL.entries()) await cell.submit(pendingJob(name, 3, i % 2 === 0 ? "labels = { tier = 'web' }" : ""));
  await cell.submit(pendingJob("wide", 250));
});
test.after.always(async () => {
  await cell?.stop();
});

type Page = { jobs: JobView[]; continue?: string };
type JobPage = { job: JobView; continue?: string };

/** Every page of a paged answer, following its continue tokens. */
async function pages<P extends { continue?: string }>(path: string): Promise<P[]> {
  const all: P[] = [];
  let token: string | undefined;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const answer = await cell.http<P>("GET", token === undefined ? path : `${path}${separator}continue=${encodeURIComponent(token)}`);
    if (answer.status !== 200) throw new Error(`${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    all.push(answer.body);
    token = answer.body.continue;
  } while (token !== undefined);
  return all;
}

test("GET /v1/jobs pages by job id: every job once, in order, with limit per page; a big job's list entry holds its first 100 tasks and says where the rest begin", async (t) => {
  const listed = await pages<Page>("/v1/jobs?limit=2");
  t.deepEqual(listed.map((page) => page.jobs.length), [2, 2, 2]);
  t.is(listed.at(-1)!.continue, undefined, "the last page has no continue");
  const ids = listed.flatMap((page) => page.jobs.map((job) => job.id));
  t.deepEqual(ids, [...SMALL, "wide"].map((name) => `${name}.tester.local`).sort());
  const wide = listed.flatMap((page) => page.jobs).find((job) => job.name === "wide")!;
  t.is(wide.tasks.length, 100);
  t.is(wide.moreTasksFrom, 100);
  t.is(wide.summary.pending, 250, "the counts cover every task");
});

test("a label selector applies before the page is cut: two matches, one a page", async (t) => {
  const listed = await pages<Page>("/v1/jobs?limit=1&selector=tier%3Dweb");
  t.deepEqual(listed.map((page) => page.jobs.map((job) => job.name)), [["p0"], ["p2"], ["p4"]]);
});

test("a job's tasks come a page at a time: every index once, in order", async (t) => {
  const listed = await pages<JobPage>("/v1/jobs/wide.tester.local?limit=100");
  t.deepEqual(listed.map((page) => page.job.tasks.length), [100, 100, 50]);
  const indexes = listed.flatMap((page) => page.job.tasks.map((task) => task.index));
  t.deepEqual(indexes, Array.from({ length: 250 }, (_, i) => i));
  const whole = await cell.job("wide.tester.local");
  t.is(whole.tasks.length, 250, "without a limit a job of up to 10,000 tasks comes whole");
  t.is(whole.moreTasksFrom, undefined);
});

test("bad paging is refused naming the field: a limit out of range, a token that is not one, a list's token on a job", async (t) => {
  const zero = await cell.http<{ error: { field: string; message: string } }>("GET", "/v1/jobs?limit=0");
  t.is(zero.status, 400);
  t.regex(zero.body.error.message, /limit: at least 1/);
  const huge = await cell.http<{ error: { field: string; message: string } }>("GET", "/v1/jobs/wide.tester.local?limit=20000");
  t.is(huge.status, 400);
  t.regex(huge.body.error.message, /limit: at most 10000 tasks a page/);
  const forged = await cell.http<{ error: { field: string; message: string } }>("GET", "/v1/jobs?continue=bm90LWEtdG9rZW4");
  t.is(forged.status, 400);
  t.is(forged.body.error.field, "continue");
  const listToken = (await cell.http<Page>("GET", "/v1/jobs?limit=1")).body.continue!;
  const mixed = await cell.http<{ error: { field: string; message: string } }>("GET", `/v1/jobs/wide.tester.local?continue=${encodeURIComponent(listToken)}`);
  t.is(mixed.status, 400);
  t.regex(mixed.body.error.message, /continue: not a token this API gave for this list/);
});

test("corral ps follows the pages: the list shows a big job's first tasks and how to see the rest; ps <job> shows them all", async (t) => {
  const list = await run(process.execPath, [CLI, "--dir", cell.cell.dir, "ps"], { cwd: REPO_ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  t.regex(list.stdout, /… 150 more tasks of wide: corral ps wide\.tester\.local/);
  for (const name of SMALL) t.regex(list.stdout, new RegExp(`2\\.${name}\\.tester\\.local`));
  const one = await run(process.execPath, [CLI, "--dir", cell.cell.dir, "ps", "wide", "--json"], { cwd: REPO_ROOT, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
  const job = (JSON.parse(one.stdout) as { jobs: JobView[] }).jobs[0]!;
  t.is(job.tasks.length, 250);
  t.is(job.moreTasksFrom, undefined);
});
