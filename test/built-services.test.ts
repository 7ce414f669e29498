import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import test from "ava";
import { TestCell, eventually } from "@corral/testkit";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../", import.meta.url));

let cell: TestCell | undefined;
test.after.always(async () => {
  await cell?.stop();
});

test("npm run build gives services that run on plain node: a cell of built services runs a job", async (t) => {
  // What `npm run build` runs; tsc is incremental, so after the type check this is quick.
  await run(process.execPath, [fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url)), "-b"], { cwd: ROOT, timeout: 600_000 });
  const { stdout } = await run(process.execPath, ["deploy/build/copy-assets.mjs"], { cwd: ROOT, timeout: 60_000 });
  t.regex(stdout, /^copied \d+ assets/);

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
