import test from "ava";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "@corral/launcher";
import { eventually, TestCell } from "@corral/testkit";

const run = promisify(execFile);
const CLI = join(REPO_ROOT, "services", "cli", "bin", "corral.js");

let cell: TestCell;
test.before(async () => {
  const attributes = [
    { rack: "a", arch: "x86_64" },
    { rack: "a", arch: "arm64" },
    { rack: "b", arch: "x86_64" },
  ];
  cell = await TestCell.start("scheduling", { masters: 1, borglets: 3, borgletAttributes: (i) => attributes[i]!, borgletCapacity: { cpu: 4, ram: "4G", disk: "10G" } });
});
test.after.always(async () => {
  await cell?.stop();
});

const job = (name: string, replicas: number, extra: string) =>
  `job ${name} = { runtime = { cell = 'local' } binary = 'sleep' args = ['600'] requirements = { cpu = 0.1 ram = 16M disk = 1M } replicas = ${replicas} ${extra} }`;

async function running(id: string, count: number) {
  return eventually(`${count} tasks of ${id} running`, async () => {
    const view = await cell.job(id);
    return view.summary.running === count ? view : undefined;
  }, 30_000);
}

test.serial("a job spread across racks runs evenly on them", async (t) => {
  const submitted = await cell.submit(job("spread", 4, "spread = { across = 'rack' max_skew = 1 }"));
  const view = await running(submitted.id, 4);
  const rackOf: Record<string, string> = { "borglet-0": "a", "borglet-1": "a", "borglet-2": "b" };
  const perRack: Record<string, number> = {};
  for (const task of view.tasks) perRack[rackOf[task.node!]!] = (perRack[rackOf[task.node!]!] ?? 0) + 1;
  t.deepEqual(perRack, { a: 2, b: 2 });
});

test.serial("hard constraints and max_per_machine: the second arm64 task has no machine and stays pending", async (t) => {
  const submitted = await cell.submit(job("arm", 2, "constraints = [ { attribute = 'arch' op = '==' value = 'arm64' } ] max_per_machine = 1"));
  const view = await running(submitted.id, 1);
  t.is(view.tasks.find((task) => task.state === "running")?.node, "borglet-1");
  await new Promise((resolve) => setTimeout(resolve, 1500)); // a few scheduling passes
  const later = await cell.job(submitted.id);
  t.is(later.summary.running, 1);
  t.is(later.summary.pending, 1);
});

interface Why {
  pending: number;
  machines: number;
  fitting: number;
  refusals: { reason: string; machines: number }[];
  advice: string[];
  spread?: { rule: string; across: string[] };
}

test.serial("why pending: machines counted per reason over the whole cell, with the request that would fit", async (t) => {
  await cell.submit(job("arm_why", 2, "constraints = [ { attribute = 'arch' op = '==' value = 'arm64' } ] max_per_machine = 1"));
  const arm = await eventually("one pending arm task", async () => {
    const why = await cell.http<Why>("GET", "/v1/jobs/arm_why/why");
    return why.status === 200 && why.body.pending === 1 && why.body.refusals.length === 2 ? why.body : undefined;
  }, 30_000);
  t.is(arm.machines, 3);
  t.deepEqual(arm.refusals, [
    { reason: "constraint arch == arm64 not met", machines: 2 },
    { reason: "already 1 of the job's tasks there", machines: 1 },
  ]);

  await cell.submit(`job huge = { runtime = { cell = 'local' } binary = 'sleep' args = ['600'] requirements = { cpu = 0.1 ram = 8G disk = 1M } replicas = 2 }`);
  const huge = await eventually("the huge job explained", async () => {
    const why = await cell.http<Why>("GET", "/v1/jobs/huge/why");
    return why.status === 200 && why.body.pending === 2 ? why.body : undefined;
  }, 30_000);
  t.deepEqual(huge.refusals, [{ reason: "insufficient ram", machines: 3 }]);
  t.is(huge.fitting, 0);
  t.regex(huge.advice[0] ?? "", /^fits 3 machines with ram ≤ 3\.\dG$/);
  t.deepEqual(huge.spread, { rule: "default", across: ["machine", "rack", "power"] }, "why says how the tasks would be spread");
  t.regex(await corral("why", "huge"), /spread: over machines, racks and power domains, by default/);

  const missing = await cell.http<{ error: { code: string } }>("GET", "/v1/jobs/no_such_job/why");
  t.is(missing.status, 404);
});

interface Plan {
  job: string;
  spread?: { rule: string; across: string[]; maxSkew?: number };
  admission: { ok: boolean; code?: string; message?: string };
  placements: { task: string; node: string }[];
  unplaced: { task: string; refusals: { reason: string; machines: number }[]; preempts?: { node: string; tasks: string[] } }[];
}

test.serial("plan: where the tasks would go and what would be preempted, committing nothing", async (t) => {
  const fits = await cell.http<Plan>("POST", "/v1/plan", { file: "p.borg", source: job("planned", 3, "") });
  t.is(fits.status, 200);
  t.true(fits.body.admission.ok);
  t.is(fits.body.placements.length, 3);
  t.deepEqual(fits.body.unplaced, []);
  t.false((await cell.jobs()).some((j) => j.name === "planned"), "a plan commits nothing");
  // Spread by default: three tasks, three machines, and the plan says so; spread = 'none' opts out.
  t.is(new Set(fits.body.placements.map((placement) => placement.node)).size, 3, "by default one task per machine");
  t.deepEqual(fits.body.spread, { rule: "default", across: ["machine", "rack", "power"] });
  const packed = await cell.http<Plan>("POST", "/v1/plan", { file: "p.borg", source: job("packed", 3, "spread = 'none'") });
  t.deepEqual(packed.body.spread, { rule: "none", across: [] });
  const file = join(cell.cell.dir, "planned.borg");
  writeFileSync(file, job("planned", 3, ""));
  t.regex(await corral("plan", file), /spread: over machines, racks and power domains, by default, as a preference \(spread = 'none' lets tasks share machines\); 3 machines would run them/);

  // Fill every machine with batch work, then plan production work that fits only by preempting some.
  const filler = await cell.submit(`job filler = { runtime = { cell = 'local' } binary = 'sleep' args = ['600'] priority = 'batch' requirements = { cpu = 1.2 ram = 16M disk = 1M } replicas = 6 max_per_machine = 2 }`);
  await running(filler.id, 6);
  const prod = `job urgent = { runtime = { cell = 'local' } binary = 'sleep' args = ['600'] priority = 'production' requirements = { cpu = 2 ram = 16M disk = 1M } replicas = 1 }`;
  const plan = await cell.http<Plan>("POST", "/v1/plan", { file: "p.borg", source: prod });
  t.is(plan.body.placements.length, 0);
  t.is(plan.body.unplaced.length, 1);
  t.deepEqual(plan.body.unplaced[0]!.refusals, [{ reason: "insufficient cpu", machines: 3 }]);
  t.is(plan.body.unplaced[0]!.preempts?.tasks.length, 1);
  t.regex(plan.body.unplaced[0]!.preempts!.tasks[0]!, /^\d\.filler\.tester\.local$/);
});

test.serial("preemption: production work that fits nowhere stops the fewest batch tasks, which go back to pending with the reason", async (t) => {
  // The previous test left two 1.2-core batch tasks on every 4-core machine.
  const urgent = await cell.submit(`job urgent = { runtime = { cell = 'local' } binary = 'sleep' args = ['600'] priority = 'production' requirements = { cpu = 2 ram = 16M disk = 1M } replicas = 1 }`);
  const running = await eventually("the urgent task running", async () => {
    const view = await cell.job(urgent.id);
    return view.summary.running === 1 ? view : undefined;
  }, 30_000);
  const filler = await cell.job("filler.tester.local");
  const preempted = filler.tasks.filter((task) => task.reason === `preempted by 0.${urgent.id}`);
  t.is(preempted.length, 1, "one victim was enough");
  t.true(preempted.every((task) => task.restarts === 0), "being preempted is not a restart");
  t.true(["pending", "assigned", "running"].includes(preempted[0]!.state), "the victim is back in the queue, not dead");
  t.not(preempted[0]!.node, running.tasks[0]!.node, "the victim did not stay where the urgent task now runs");
});

interface SimulationJson {
  pendingTasks: number;
  runningTasks: number;
  machines: number;
  outcomes: { policy: string; placed: number; unplaced: number; refusals: Record<string, number> }[];
}

async function corral(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, "--dir", cell.cell.dir, ...args], { cwd: REPO_ROOT, timeout: 60_000 });
  return stdout;
}

test.serial("simulate: the real pipeline offline, on a saved checkpoint, with the cell's machines or synthetic ones", async (t) => {
  const file = join(cell.cell.dir, "saved.checkpoint");
  await corral("checkpoint", "save", file);
  const onCell = JSON.parse(await corral("simulate", "--checkpoint", file, "--json")) as SimulationJson;
  t.is(onCell.machines, 3);
  t.true(onCell.pendingTasks >= 2, "the 8G tasks are pending");
  for (const outcome of onCell.outcomes) {
    t.is(outcome.placed + outcome.unplaced, onCell.pendingTasks, `${outcome.policy}: every pending task is accounted for`);
    t.true((outcome.refusals["insufficient ram"] ?? 0) >= 2, `${outcome.policy}: the 8G tasks fit no 4G machine`);
  }
  t.deepEqual(onCell.outcomes.map((o) => o.policy), ["e-pvm", "best-fit", "hybrid"]);

  const bigger = JSON.parse(await corral("simulate", "--checkpoint", file, "--machines", "50", "--policy", "hybrid", "--json")) as SimulationJson;
  t.is(bigger.machines, 50);
  t.is(bigger.runningTasks, 0, "no task's machine exists in a synthetic cell, so all are placed anew");
  t.is(bigger.outcomes[0]!.unplaced, 0, "50 larger machines take everything");

  const live = JSON.parse(await corral("simulate", "--checkpoint", "live", "--policy", "best-fit", "--json")) as SimulationJson;
  t.is(live.outcomes.length, 1);
  t.true(live.runningTasks > 0);
});
