/// <reference lib="dom" />
import test from "ava";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { REPO_ROOT } from "@corral/launcher";
import { eventually, TestCell } from "@corral/testkit";

const ARTIFACTS = join(REPO_ROOT, "test-artifacts");
let cell: TestCell;
let browser: Browser;
test.before(async () => {
  cell = await TestCell.start("ui", { masters: 1, borglets: 1, borgletCapacity: { cpu: 2, ram: "1G", disk: "1G" } });
  // Debian's chromium; as root it needs --no-sandbox.
  browser = await chromium.launch({ executablePath: process.env["CHROMIUM"] ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
  mkdirSync(ARTIFACTS, { recursive: true });
});
test.after.always(async () => {
  await browser?.close();
  await cell?.stop();
});

test("the UI shows a running job, a pending job with why, and a task's death without a reload", async (t) => {
  const web = await cell.submit("job web = { binary = '/bin/sleep' args = ['600'] requirements = { ram = 16M cpu = 0.1 } replicas = 2 grace = 1s }");
  await cell.submit("job huge = { binary = '/bin/sleep' args = ['600'] requirements = { ram = 100G cpu = 0.1 } replicas = 1 }");
  const running = await eventually("web running", async () => {
    const view = await cell.job(web.id);
    return view.summary.running === 2 ? view : undefined;
  }, 30_000);
  const page = await browser.newPage();
  await page.goto(`${cell.gateway}/ui`);
  // No token yet: the page asks for one and shows no job.
  await page.waitForSelector("#sign-in:not([hidden])", { timeout: 15_000 });
  t.is(await page.locator("tr[data-job]").count(), 0);
  await page.fill("#token", "corral_not-a-token");
  await page.click("#sign-in button");
  await page.waitForFunction(() => /not one this cell issued/.test(document.getElementById("sign-in-why")?.textContent ?? ""), undefined, { timeout: 15_000 });
  t.is(await page.locator("tr[data-job]").count(), 0, "a bad token shows nothing either");
  await page.fill("#token", cell.adminToken);
  await page.click("#sign-in button");
  await page.waitForSelector(`tr[data-job="${web.id}"][data-state="running"]`, { timeout: 15_000 });
  t.is(await page.locator(`tr[data-job="${web.id}"][data-state="running"]`).count(), 2);
  await page.locator('tr[data-job="huge.tester.local"]').first().click();
  await page.waitForFunction(() => /insufficient ram/.test(document.getElementById("why")?.textContent ?? ""), undefined, { timeout: 15_000 });
  t.regex((await page.textContent("#why")) ?? "", /Why pending: 0 of 1 machines can take a task now/);
  await page.waitForFunction(() => /No logs/.test(document.getElementById("logs")?.textContent ?? ""), undefined, { timeout: 15_000 });
  t.regex((await page.textContent("#logs")) ?? "", /No logs: task 0\.huge\.tester\.local is pending and has no machine/, "said in words, not as a status code");
  await page.screenshot({ path: join(ARTIFACTS, "ui-running-and-pending.png"), fullPage: true });

  // A mark in the page: it is still there after the update only if the page was not reloaded.
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
  process.kill(running.tasks[0]!.pid!, "SIGKILL");
  await page.waitForFunction(() => Array.from(document.querySelectorAll("#jobs td")).some((cell) => /terminated by SIGKILL/.test(cell.textContent ?? "")), undefined, { timeout: 15_000 });
  t.true(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded === true), "updated live, not by a reload");
  t.is(await page.textContent("#live"), "live");
  await page.screenshot({ path: join(ARTIFACTS, "ui-after-task-died.png"), fullPage: true });
});
