/// <reference lib="dom" />
import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CellSummary, FederatedJobView, JobView } from "@corral/contracts";
import { chromium } from "playwright-core";
import { REPO_ROOT } from "@corral/launcher";
import { eventually, TestCell, testDir } from "@corral/testkit";

const ARTIFACTS = join(REPO_ROOT, "test-artifacts");

// Three cells (a, b, c), each with its own Redis, a master, a scheduler and two borglets of one
// core each, behind two gateways; a cell silent for 3 s is down. In cell b the tester's batch
// quota is one core.
const CELL_DOWN_AFTER_MS = 3000;
let cells: TestCell;
test.before(async () => {
  const quotaB = join(testDir("federation-quota"), "quota-b.yaml");
  writeFileSync(quotaB, "users:\n  tester:\n    batch: { cpu: 1, ram: 1G }\n    production: { cpu: 100, ram: 100G }\n");
  cells = await TestCell.start("federation", {
    cells: ["a", "b", "c"],
    gateways: 2,
    // One master per cell: this file tests the federation, not a cell's own failover, and
    // twenty-odd processes already start at once beside the other test files.
    masters: 1,
    borglets: 2,
    borgletCapacity: { cpu: 1, ram: "2G" },
    cellDownAfterMs: CELL_DOWN_AFTER_MS,
    quotaFiles: { b: quotaB },
  });
});
test.after.always(async () => {
  await cells?.stop();
});

async function federated(id: string, via = cells): Promise<FederatedJobView> {
  const answer = await via.http<{ job: FederatedJobView }>("GET", `/v1/jobs/${id}`);
  if (answer.status !== 200) throw new Error(`${id}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.job;
}

/** Running tasks per cell, e.g. { a: 6, b: 3, c: 3 }. */
function runningByCell(job: FederatedJobView): Record<string, number> {
  return Object.fromEntries(job.cells.map((cell) => [cell.cell, job.tasks.filter((task) => task.cell === cell.cell && task.state === "running").length]));
}

async function runningAs(id: string, expected: Record<string, number>, timeoutMs: number, via = cells): Promise<FederatedJobView> {
  return eventually(`${id} running as ${JSON.stringify(expected)}`, async () => {
    const job = await federated(id, via);
    return JSON.stringify(runningByCell(job)) === JSON.stringify(expected) ? job : undefined;
  }, timeoutMs);
}

const sleeper = (name: string, runtime: string, replicas: number, cpu = 0.01) =>
  `job ${name} = { runtime = { ${runtime} } binary = '/bin/sleep' args = ['600'] requirements = { cpu = ${cpu} ram = 8M ports = 1 } replicas = ${replicas} grace = 1s }`;

test.serial("corral cells lists every cell with its machines, capacity and health", async (t) => {
  // Each gateway hears from every cell's leader within a second of its election.
  const answer = await eventually("every cell healthy", async () => {
    const got = await cells.http<{ cells: CellSummary[]; reconciler: string | null }>("GET", "/v1/cells");
    return got.body.cells.every((cell) => cell.health === "healthy") ? got : undefined;
  }, 15_000);
  t.is(answer.status, 200);
  t.deepEqual(answer.body.cells.map((cell) => [cell.cell, cell.health, cell.machines.up, cell.capacity.cpu]), [["a", "healthy", 2, 2], ["b", "healthy", 2, 2], ["c", "healthy", 2, 2]]);
  t.truthy(answer.body.reconciler, "one of the gateways reconciles");
  // The gateways' metrics say the same: every cell healthy, and exactly one reconciling.
  const texts = await Promise.all((cells.cell.metrics ?? []).map(async (url) => (await fetch(url)).text()));
  const gateways = texts.filter((text) => text.includes("corral_gateway_cell_health"));
  t.is(gateways.length, 2);
  for (const text of gateways) for (const cell of ["a", "b", "c"]) t.regex(text, new RegExp(`corral_gateway_cell_health\\{[^}]*target_cell="${cell}"[^}]*\\} 1\\n`));
  t.is(gateways.filter((text) => /corral_gateway_reconciler_leading\{[^}]*\} 1\n/.test(text)).length, 1);
});

test.serial("a federated job naming a cell the gateways do not serve is refused, naming the field", async (t) => {
  const answer = await cells.http<{ error: { field: string; message: string } }>("POST", "/v1/jobs", { source: sleeper("nowhere", "cells = ['a', 'x']", 2) });
  t.is(answer.status, 400);
  t.is(answer.body.error.field, "runtime.cells");
  t.regex(answer.body.error.message, /x is not a cell of this federation; it has a, b, c/);
  t.is((await cells.http("GET", "/v1/jobs/nowhere.tester")).status, 404, "nothing was recorded");
});

test.serial("spread 12 replicas with weights 2:1:1 runs 6/3/3; ps gives one federated view with each task's cell; names resolve across cells", async (t) => {
  const submitted = await cells.http<{ job: FederatedJobView }>("POST", "/v1/jobs", { source: sleeper("web", "cells = ['a', 'b', 'c'] policy = 'spread' weights = [2, 1, 1]", 12) });
  t.is(submitted.status, 201, JSON.stringify(submitted.body));
  t.deepEqual(submitted.body.job.cells.map((cell) => [cell.cell, cell.home]), [["a", 6], ["b", 3], ["c", 3]]);
  const job = await runningAs("web.tester", { a: 6, b: 3, c: 3 }, 30_000);
  t.true(job.tasks.every((task) => task.id.endsWith(`.${task.cell}`)), "each task's id is in its cell");

  const list = await cells.http<{ jobs: JobView[]; federated: FederatedJobView[] }>("GET", "/v1/jobs?user=tester");
  t.deepEqual(list.body.federated.map((entry) => entry.id), ["web.tester"]);
  t.false(list.body.jobs.some((entry) => entry.name === "web"), "member jobs are shown as the federated job, not apart");

  const dns = cells.cell.dns!.split(":");
  const dig = (...query: string[]) => execFileSync("dig", [`@${dns[0]}`, "-p", dns[1]!, "+short", ...query], { encoding: "utf8" }).trim();
  // Names are published by each cell's leader a moment after its tasks run.
  const srv = await eventually("12 SRV records for web.tester.corral", () => {
    const lines = dig("SRV", "web.tester.corral").split("\n").filter((line) => line !== "");
    return lines.length === 12 ? lines : undefined;
  }, 10_000);
  t.deepEqual(new Set(srv.map((line) => line.split(" ")[3]!.split(".")[3])), new Set(["a", "b", "c"]), "SRV targets in every cell");
  t.is(dig("0.web.tester.c.corral"), "127.0.0.1");
});

test.serial("the web UI shows every cell, each cell's machines, and the federated job's tasks in their cells; a task killed in cell c shows without a reload", async (t) => {
  const job = await runningAs("web.tester", { a: 6, b: 3, c: 3 }, 30_000);
  // Debian's chromium; as root it needs --no-sandbox.
  const browser = await chromium.launch({ executablePath: process.env["CHROMIUM"] ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  await page.goto(`${cells.gateway}/ui`);
  await page.fill("#token", cells.adminToken);
  await page.click("#sign-in button");
  await page.waitForFunction(() => document.querySelectorAll('#cells tr[data-health="healthy"]').length === 3, undefined, { timeout: 15_000 });
  t.deepEqual(await page.locator("#cells tr[data-cell]").evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset["cell"])), ["a", "b", "c"]);
  for (const cell of ["a", "b", "c"]) t.is(await page.locator(`#machines tr[data-cell="${cell}"]`).count(), 2, `cell ${cell}'s two machines`);
  await page.waitForFunction(() => document.querySelectorAll('tr[data-job="web.tester"][data-state="running"]').length === 12, undefined, { timeout: 15_000 });
  for (const [cell, count] of Object.entries({ a: 6, b: 3, c: 3 })) t.is(await page.locator(`tr[data-job="web.tester"][data-cell="${cell}"]`).count(), count);

  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  const victim = job.tasks.find((task) => task.cell === "c" && task.state === "running")!;
  process.kill(victim.pid!, "SIGKILL");
  await page.waitForFunction(() => Array.from(document.querySelectorAll('tr[data-job="web.tester"][data-cell="c"] td')).some((cell) => /terminated by SIGKILL/.test(cell.textContent ?? "")), undefined, { timeout: 15_000 });
  t.true(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded === true), "updated live from cell c's changes, not by a reload");
  await page.locator('tr[data-job="web.tester"]').first().click();
  await page.waitForFunction(() => /^Federated \(spread\): a: \d+ of 6 running; b: \d+ of 3 running; c: \d+ of 3 running/.test(document.getElementById("why")?.textContent ?? ""), undefined, { timeout: 15_000 });
  // A task's logs come from its member job in its own cell.
  await page.locator('tr[data-job="web.tester"][data-cell="c"]').first().click();
  await page.waitForFunction(() => /^Logs of \d+\.\S+\.c$/.test(document.getElementById("logs-title")?.textContent ?? ""), undefined, { timeout: 15_000 });
  t.notRegex((await page.textContent("#logs")) ?? "", /no logs/);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "ui-federation.png"), fullPage: true });
});

test.serial("corral scale of a federated job: up and down by the policy in every cell; a member alone cannot be scaled", async (t) => {
  t.is((await cells.http("POST", "/v1/jobs", { source: sleeper("api", "cells = ['a', 'b', 'c'] policy = 'spread'", 6) })).status, 201);
  await runningAs("api.tester", { a: 2, b: 2, c: 2 }, 30_000);
  const refused = await cells.http<{ error: { field: string; message: string } }>("POST", "/v1/jobs/api.tester.b/scale", { replicas: 5 });
  t.is(refused.status, 400);
  t.regex(refused.body.error.message, /api\.tester\.b is cell b's part of federated job api\.tester; scale that instead/);

  const cli = join(REPO_ROOT, "services", "cli", "bin", "corral.js");
  const printed = execFileSync(process.execPath, [cli, "--dir", cells.cell.dir, "scale", "api.tester", "9", "--wait", "--json"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
  const up = JSON.parse(printed) as { job: FederatedJobView };
  t.is(up.job.replicas, 9);
  t.deepEqual(runningByCell(up.job), { a: 3, b: 3, c: 3 });
  const down = await cells.http<{ job: FederatedJobView }>("POST", "/v1/jobs/api.tester/scale", { replicas: 3 });
  t.is(down.status, 200);
  const job = await runningAs("api.tester", { a: 1, b: 1, c: 1 }, 30_000);
  t.true(job.events.some((event) => event.text === "scaled from 9 to 3 replicas: stopping 2 in a, stopping 2 in b, stopping 2 in c"), JSON.stringify(job.events));
  t.is((await cells.http("DELETE", "/v1/jobs/api.tester")).status, 202);
});

test.serial("fill with cell a full: what a cannot run spills to b after spill_after", async (t) => {
  // Cell a's two machines are mostly taken: each has room for one 0.3-core task.
  await cells.submit(sleeper("hog", "cell = 'a'", 2, 0.6));
  await eventually("hog running", async () => ((await cells.job("hog.tester.a")).summary.running === 2 ? true : undefined), 30_000);
  await cells.submit(sleeper("batch", "cells = ['a', 'b', 'c'] policy = 'fill' spill_after = 2s", 4, 0.3));
  const job = await runningAs("batch.tester", { a: 2, b: 2, c: 0 }, 30_000);
  t.like(job.cells.find((cell) => cell.cell === "b"), { home: 0, assigned: 2 });
  t.true(job.events.some((event) => /placed 2 to b/.test(event.text)), JSON.stringify(job.events));
});

test.serial("fill where b refuses for quota: the job goes to the next cell at once, and b says why", async (t) => {
  await cells.submit(sleeper("reports", "cells = ['b', 'c'] policy = 'fill'", 3, 0.4).replace("grace = 1s", "grace = 1s priority = 'batch'"));
  const job = await runningAs("reports.tester", { b: 0, c: 3 }, 30_000);
  t.regex(job.cells.find((cell) => cell.cell === "b")?.refused ?? "", /batch quota: cpu 1\.2 cores of 1 cores/);
});

test.serial("every master of cell a killed: its share runs in b and c within cell-down-after + 5 s; back, it is rebalanced without dropping below the replicas", async (t) => {
  const masters = cells.cell.processes.filter((p) => p.name.startsWith("a-master-")).map((p) => p.name);
  const killedAt = Date.now();
  for (const name of masters) cells.kill(name, "SIGKILL");
  await runningAs("web.tester", { a: 0, b: 6, c: 6 }, CELL_DOWN_AFTER_MS + 5000 + 3000 /* the gateway's own look at the cell */);
  t.log(`a's 6 replicas running in b and c ${Date.now() - killedAt} ms after its masters died`);
  t.true(Date.now() - killedAt <= CELL_DOWN_AFTER_MS + 5000 + 3000);
  // Meanwhile the list still answers, saying which cell is missing from it.
  const list = await cells.http<{ federated: FederatedJobView[]; unreachable: string[] }>("GET", "/v1/jobs?user=tester");
  t.is(list.status, 200);
  t.deepEqual(list.body.unreachable, ["a"]);
  t.true(list.body.federated.some((job) => job.id === "web.tester"));

  for (const name of masters) await cells.restart(name);
  // Sample the running count while a comes back and the extras in b and c stop.
  let lowest = Infinity;
  const final = await eventually(
    "web back to 6/3/3",
    async () => {
      const job = await federated("web.tester");
      const running = runningByCell(job);
      const reachable = job.cells.every((cell) => cell.reachable);
      if (reachable) lowest = Math.min(lowest, running.a! + running.b! + running.c!);
      return reachable && running.a === 6 && running.b === 3 && running.c === 3 ? job : undefined;
    },
    60_000,
  );
  t.true(lowest >= 12, `never fewer than 12 running while rebalancing (lowest ${lowest})`);
  t.true(final.events.some((event) => /rebalancing/.test(event.text)));
  const member = await cells.job("web.tester.a");
  t.is(member.tasks.filter((task) => task.state === "running").length, 6, "a's own tasks were kept (adopted), not started again");
});

test.serial("a gateway killed right after accepting a job: the other one places it", async (t) => {
  const holder = (await cells.http<{ reconciler: string }>("GET", "/v1/cells")).body.reconciler;
  const index = holder === "gateway-1" ? 1 : 0;
  const doomed = cells.viaGateway(index);
  const other = cells.viaGateway(1 - index);
  const submitted = await doomed.http<{ job: FederatedJobView }>("POST", "/v1/jobs", { source: sleeper("late", "cells = ['a', 'b', 'c']", 9) });
  t.is(submitted.status, 201);
  doomed.kill(holder!, "SIGKILL");
  await runningAs("late.tester", { a: 3, b: 3, c: 3 }, 30_000, other);
  t.is((await other.http<{ reconciler: string }>("GET", "/v1/cells")).body.reconciler, `gateway-${1 - index}`);

  // A federated kill through the survivor stops every member.
  t.is((await other.http("DELETE", "/v1/jobs/late.tester")).status, 202);
  await eventually("every member of late dead", async () => {
    const job = await federated("late.tester", other);
    return job.tasks.every((task) => task.state === "dead") && job.cells.every((cell) => cell.reachable) ? true : undefined;
  }, 30_000);
});
