import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import test from "ava";
import { readCellFile, stopLocalCell } from "@corral/launcher";
import { TestCell, eventually, testDir } from "@corral/testkit";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../", import.meta.url));

let cell: TestCell | undefined;
test.after.always(async () => {
  await cell?.stop();
});

/** What `npm run build` runs, once for both tests; tsc is incremental, so after the type check this is quick. */
let built: Promise<void> | undefined;
function build(): Promise<void> {
  built ??= (async () => {
    await run(process.execPath, [fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url)), "-b"], { cwd: ROOT, timeout: 600_000 });
    const { stdout } = await run(process.execPath, ["deploy/build/copy-assets.mjs"], { cwd: ROOT, timeout: 60_000 });
    if (!/^copied \d+ assets/.test(stdout)) throw new Error(`copy-assets said: ${stdout}`);
  })();
  return built;
}

test.serial("the package's corral runs the built CLI: --help, and a cell it starts runs built services", async (t) => {
  await build();
  const corral = (...args: string[]) => run(join(ROOT, "bin", "corral.js"), args, { cwd: ROOT, timeout: 180_000 });
  t.regex((await corral("--help")).stdout, /Usage: corral/);
  const dir = testDir("built-cli");
  t.teardown(() => stopLocalCell(dir, 2000));
  await corral("--dir", dir, "cell", "up", "--borglets", "1", "--masters", "1");
  const cellFile = readCellFile(dir)!;
  for (const started of cellFile.processes.filter((p) => p.role !== "nats" && p.role !== "redis")) {
    t.true(started.args.includes("--conditions=corral-built"), `${started.name} runs built`);
    t.false(started.args.some((arg) => arg.includes("tsx") || arg.endsWith(".ts")), `${started.name} loads no TypeScript`);
  }
  const { stdout } = await corral("--dir", dir, "nodes", "--json");
  t.is((JSON.parse(stdout) as { nodes: { state: string }[] }).nodes.filter((node) => node.state === "up").length, 1);
  await corral("--dir", dir, "cell", "down");
  t.is(readCellFile(dir), undefined, "cell down removed it");
});

test.serial("npm run build gives services that run on plain node: a cell of built services runs a job", async (t) => {
  await build();

  cell = await TestCell.start("built", { masters: 2, borglets: 1, form: "built" });
  for (const service of ["master-0", "master-1", "scheduler-0", "borglet-0", "gateway"]) {
    const started = cell.process(service);
    t.true(started.args.includes("--conditions=corral-built"), `${service} runs built`);
    t.false(started.args.some((arg) => arg.includes("tsx") || arg.endsWith(".ts")), `${service} loads no TypeScript`);
  }
  const job = await cell.submit(`
job built_sleeper = {
  binary = '/bin/sleep'
  args = ['3600']
  requirements = { ram = 10M  cpu = 0.01 }
  replicas = 2
}`);
  const running = await eventually("both tasks running", async () => {
    const view = await cell!.job(job.id);
    return view.summary.running === 2 ? view : undefined;
  }, 60_000);
  t.true(running.tasks.every((task) => task.pid !== undefined));
  // The leader keeps its lease through a worker thread: a built master must load it as JavaScript.
  t.regex(cell.logOf("master-0") + cell.logOf("master-1"), /leadership taken/);
});
