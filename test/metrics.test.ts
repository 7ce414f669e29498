import test from "ava";
import { execFile, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { readCellFile, REPO_ROOT } from "@corral/launcher";
import { eventually, TestCell, testDir } from "@corral/testkit";
import { pushBusyboxImage } from "./support/busybox-image.js";

const run = promisify(execFile);

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("metrics", { masters: 2, borglets: 2, borgletCapacity: { cpu: 2, ram: "1G", disk: "1G" } });
  await pushBusyboxImage(cell, "sleeper:1", { applets: ["sleep"] });
});
test.after.always(async () => {
  await cell?.stop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One scraped page: the samples of the text format, once promtool has passed it. */
class Page {
  constructor(
    readonly url: string,
    readonly samples: Sample[],
  ) {}

  get service(): string {
    return this.samples.find((s) => s.labels["service"] !== undefined)?.labels["service"] ?? "";
  }

  /** The value of the one series of `name` with these labels; undefined when there is none. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const matching = this.samples.filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));
    if (matching.length > 1) throw new Error(`${this.url}: ${matching.length} series of ${name} match ${JSON.stringify(labels)}`);
    return matching[0]?.value;
  }

  has(name: string): boolean {
    return this.samples.some((s) => s.name === name);
  }
}

/** prom-client's own default gauges break promtool's naming lint; every other complaint fails the test. */
const PROM_CLIENT_LINT = /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

function checkWithPromtool(url: string, text: string): void {
  const checked = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  if (checked.error !== undefined) throw new Error(`promtool: ${checked.error.message} (Debian package prometheus)`);
  const problems = `${checked.stdout}${checked.stderr}`.split("\n").filter((line) => line.trim() !== "" && !PROM_CLIENT_LINT.test(line.trim()));
  // Exit 1 is a parse error; 3 is lint problems only, all of them prom-client's if none are left.
  if (checked.status === 1 || problems.length > 0) throw new Error(`promtool check metrics failed on ${url}:\n${problems.join("\n")}`);
}

function parse(url: string, text: string): Page {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`${url}: unexpected line ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return new Page(url, samples);
}

async function scrape(url: string): Promise<Page> {
  const response = await fetch(url).catch((error: Error & { cause?: Error }) => {
    throw new Error(`${url}: ${error.message}${error.cause === undefined ? "" : ` (${error.cause.message})`}`);
  });
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  const text = await response.text();
  checkWithPromtool(url, text);
  return parse(url, text);
}

/** Every service's page, from the URLs in the cell file, each checked by promtool. */
async function scrapeAll(): Promise<Page[]> {
  return Promise.all((readCellFile(cell.cell.dir)?.metrics ?? []).map(scrape));
}

/** The process whose exporter serves `url` (its --metrics-port). */
function processServing(url: string): string {
  const port = new URL(url).port;
  const found = cell.cell.processes.find((p) => {
    const flag = p.args.indexOf("--metrics-port");
    return flag !== -1 && p.args[flag + 1] === port;
  });
  if (found === undefined) throw new Error(`no process serves ${url}`);
  return found.name;
}

const of = (pages: Page[], service: string) => pages.filter((page) => page.service === service);
const sum = (pages: Page[], name: string, labels: Record<string, string> = {}) => pages.reduce((total, page) => total + (page.value(name, labels) ?? 0), 0);

test.serial("every service exports its metrics at the URL the cell file records, in a format promtool accepts", async (t) => {
  const recorded = readCellFile(cell.cell.dir)!.metrics!;
  t.is(recorded.length, 2 + 1 + 2 + 1, "two masters, a scheduler, two borglets, the gateway");
  t.true(recorded.every((url) => /^http:\/\/127\.0\.0\.1:\d+\/metrics$/.test(url)));
  const pages = await scrapeAll();
  t.deepEqual(pages.map((page) => page.service).sort(), ["borglet", "borglet", "gateway", "master", "master", "scheduler"]);
  for (const page of pages) {
    t.true(page.samples.every((s) => s.labels["cell"] === "local" && s.labels["service"] === page.service), `${page.url}: every series carries service and cell`);
    t.true(page.has("process_resident_memory_bytes"), `${page.url}: Node's default metrics`);
    t.is(page.value("corral_nats_disconnects_total"), 0, `${page.url}: NATS never went away`);
    t.is(page.value("corral_nats_errors_total"), 0);
    t.is(page.has("corral_redis_errors_total"), page.service === "master", `${page.url}: only masters talk to Redis`);
  }
  for (const master of of(pages, "master")) t.is(master.value("corral_redis_disconnects_total"), 0);
});

test.serial("the leader, the scheduler and the borglets report a running job, a job that fits nowhere, and a container's usage", async (t) => {
  const hello = await cell.submit(`job hello = { binary = 'sleep' args = ['600'] priority = 'batch' requirements = { cpu = 0.1 ram = 16M disk = 1M } replicas = 2 }`);
  const sleeper = await cell.submit(`job sleeper = { image = 'sleeper:1' binary = 'sleep' args = ['600'] requirements = { cpu = 0.2 ram = 64M } replicas = 1 grace = 1s }`);
  await cell.submit(`job huge = { binary = 'sleep' args = ['600'] priority = 'batch' requirements = { cpu = 100 ram = 16M disk = 1M } replicas = 3 }`);
  for (const id of [hello.id, sleeper.id]) {
    await eventually(`${id} running`, async () => ((await cell.job(id)).tasks.every((task) => task.state === "running") ? true : undefined), 30_000);
  }
  const leaderStats = await cell.leader();
  const sleeperTask = `0.${sleeper.id}`;

  // The borglets measure the container on their heartbeats: its cpu needs two readings.
  const pages = await eventually(
    "every page showing the cell as it is",
    async () => {
      const scraped = await scrapeAll();
      const leaders = of(scraped, "master").filter((page) => page.value("corral_master_is_leader") === 1);
      const ready =
        leaders.length === 1 &&
        leaders[0]!.value("corral_master_tasks", { state: "running" }) === 3 &&
        sum(of(scraped, "borglet"), "corral_borglet_tasks", { state: "running" }) === 3 &&
        of(scraped, "borglet").some((page) => page.value("corral_borglet_task_cpu_cores", { task: sleeperTask }) !== undefined) &&
        sum(of(scraped, "master"), "corral_master_heartbeats_total", { arrived: "alive_reported" }) > 0 &&
        // Heartbeats go to one master of the queue group at random: the leader's share may take a few.
        (leaders[0]!.value("corral_master_heartbeats_total", { arrived: "direct" }) ?? 0) > 0;
      return ready ? scraped : undefined;
    },
    30_000,
  );

  const masters = of(pages, "master");
  const [leader, ...standbys] = [...masters].sort((a, b) => (b.value("corral_master_is_leader") ?? 0) - (a.value("corral_master_is_leader") ?? 0));
  t.is(leader!.value("corral_master_is_leader"), 1);
  t.is(leader!.value("corral_master_epoch"), leaderStats.epoch, "the leader's epoch, as api.stats tells it");
  t.true(leaderStats.epoch > 0);
  t.true(leader!.value("corral_master_terms_won_total")! >= 1);
  for (const standby of standbys) {
    t.is(standby.value("corral_master_is_leader"), 0);
    t.is(standby.value("corral_master_epoch"), 0);
    t.false(standby.has("corral_master_pending_tasks"), "standbys export none of the cell's state, so sums over replicas are the cell's");
  }
  t.is(leader!.value("corral_master_pending_tasks", { band: "batch" }), 3, "the three tasks that fit nowhere");
  t.is(leader!.value("corral_master_pending_tasks", { band: "production" }), 0);
  t.is(leader!.value("corral_master_tasks", { state: "pending" }), 3);
  t.is(leader!.value("corral_master_machines", { state: "up" }), 2);
  t.true(leader!.value("corral_master_heartbeats_total", { arrived: "direct" })! > 0, "the leader's own share of heartbeats");
  t.true(leader!.value("corral_master_commit_duration_seconds_count")! >= 3, "a commit per submission at least");
  t.true(leader!.value("corral_master_commit_duration_seconds_sum")! > 0);

  const [scheduler] = of(pages, "scheduler");
  t.true(scheduler!.value("corral_scheduler_placements_total")! >= 3, "hello's two tasks and sleeper's");
  t.true(scheduler!.value("corral_scheduler_unplaced_total")! >= 3, "huge's three tasks, once per round at least");
  t.true(scheduler!.value("corral_scheduler_round_duration_seconds_count")! >= 1);
  t.is(scheduler!.value("corral_scheduler_rejections_total"), 0, "one scheduler: the leader has no reason to refuse its plans");

  const borglets = of(pages, "borglet");
  const running = borglets.find((page) => page.value("corral_borglet_task_memory_bytes", { task: sleeperTask }) !== undefined)!;
  t.truthy(running, "the borglet that runs the container reports its usage");
  t.true(running.value("corral_borglet_task_memory_bytes", { task: sleeperTask, job: sleeper.id })! > 0, "a sleeping busybox holds some memory");
  t.true(running.value("corral_borglet_task_cpu_cores", { task: sleeperTask, job: sleeper.id })! >= 0);
  t.false(borglets.some((page) => page.samples.some((s) => s.name === "corral_borglet_task_memory_bytes" && s.labels["job"] === hello.id)), "host tasks have no cgroup to measure");

  // A task that ends leaves no series behind.
  t.is((await cell.http("DELETE", `/v1/jobs/${sleeper.id}`)).status, 202);
  await eventually(
    "the container's series gone",
    async () => ((await scrapeAll()).some((page) => page.samples.some((s) => s.labels["task"] === sleeperTask)) ? undefined : true),
    30_000,
  );
  // One scrape more, retried: on a machine busy with the whole suite a service may be slow to accept one.
  const after = await eventually("every service to answer a scrape", () => scrapeAll(), 30_000);
  t.is(sum(of(after, "borglet"), "corral_borglet_tasks", { state: "running" }), 2);
});

test.serial("deploy/prometheus-targets.sh turns the cell file into file_sd targets that promtool accepts", async (t) => {
  const where = testDir("prometheus");
  const targets = join(where, "targets.json");
  const { stdout } = await run("bash", [join(REPO_ROOT, "deploy", "prometheus-targets.sh"), cell.cell.dir, targets]);
  t.regex(stdout, /6 targets written/);
  const groups = JSON.parse(readFileSync(targets, "utf8")) as { targets: string[]; labels: { process: string } }[];
  t.deepEqual(
    groups.map((group) => group.targets),
    readCellFile(cell.cell.dir)!.metrics!.map((url) => [new URL(url).host]),
  );
  t.deepEqual(groups.map((group) => group.labels.process).sort(), ["borglet-0", "borglet-1", "gateway", "master-0", "master-1", "scheduler-0"]);

  // The shipped config is valid, and the same job pointed at these targets finds them all.
  await run("promtool", ["check", "config", join(REPO_ROOT, "deploy", "prometheus.yml")]);
  const config = join(where, "prometheus.yml");
  writeFileSync(config, readFileSync(join(REPO_ROOT, "deploy", "prometheus.yml"), "utf8").replace("../.corral/prometheus-targets.json", targets));
  const checked = await run("promtool", ["check", "config", config]);
  t.notRegex(`${checked.stdout}${checked.stderr}`, /WARNING/);
  t.regex(checked.stdout, /SUCCESS/);
});

test.serial("after the leader dies, the standby that takes over reports the next epoch and a term won", async (t) => {
  const before = of(await scrapeAll(), "master");
  const leader = before.find((page) => page.value("corral_master_is_leader") === 1)!;
  const standby = before.find((page) => page !== leader)!;
  const epoch = leader.value("corral_master_epoch")!;
  t.is(standby.value("corral_master_terms_won_total"), 0);
  cell.kill(processServing(leader.url));

  const taken = await eventually(
    "the standby leading",
    async () => {
      const page = await scrape(standby.url);
      return page.value("corral_master_is_leader") === 1 && page.value("corral_master_heartbeats_total", { arrived: "direct" })! > 0 ? page : undefined;
    },
    30_000,
  );
  t.true(taken.value("corral_master_epoch")! > epoch, "a new term has a higher epoch");
  t.is(taken.value("corral_master_terms_won_total"), 1);
  t.is(taken.value("corral_master_pending_tasks", { band: "batch" }), 3, "the new leader's state has the same pending work");
  t.is(taken.value("corral_master_step_downs_total"), 0);
});
