import test from "ava";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { encode } from "@corral/contracts";
import { cellKeys, CheckpointStore, connectRedis, createLogger } from "@corral/kit";
import { REPO_ROOT } from "@corral/launcher";
import { eventually, TestCell } from "@corral/testkit";

const run = promisify(execFile);
const CLI = join(REPO_ROOT, "services", "cli", "bin", "corral.js");

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("checkpoint-cell", { masters: 2, borglets: 2, checkpointEveryMs: 300 });
});
test.after.always(async () => {
  await cell?.stop();
});

interface Inspection {
  checkpoint?: { position: string; compatible: boolean; machineVersion: number; holds: { jobs: number; tasksByState: Record<string, number> } };
  log: { entries: number };
  recovered: { records: number } | { error: string };
}

async function inspect(): Promise<Inspection> {
  const { stdout } = await run(process.execPath, [CLI, "--dir", cell.cell.dir, "checkpoint", "inspect", "--json"], { cwd: REPO_ROOT, timeout: 60_000 });
  return JSON.parse(stdout) as Inspection;
}

const spec = (name: string, replicas: number) =>
  `job ${name} = { runtime = { cell = 'local' } binary = 'sleep' args = ['600'] requirements = { cpu = 0.1 ram = 32M disk = 1M } replicas = ${replicas} }`;

test.serial("standbys checkpoint the cell, the log is trimmed behind them, and all masters restarted recover from it", async (t) => {
  const job = await cell.submit(spec("kept", 3));
  await eventually("3 running", async () => ((await cell.job(job.id)).summary.running === 3 ? true : undefined), 30_000);
  const checkpointed = await eventually(
    "a checkpoint holding the running tasks",
    async () => {
      const seen = await inspect();
      return (seen.checkpoint?.holds.tasksByState["running"] ?? 0) >= 3 ? seen : undefined;
    },
    20_000,
  );
  t.is(checkpointed.checkpoint?.holds.jobs, 1);
  t.true(checkpointed.checkpoint?.compatible);
  t.true(checkpointed.log.entries < 20, `the log is trimmed behind the checkpoint (${checkpointed.log.entries} entries kept)`);

  const before = await cell.job(job.id);
  const masters = cell.cell.processes.filter((p) => p.role === "master").map((p) => p.name);
  for (const name of masters) cell.kill(name, "SIGKILL");
  for (const name of masters) await cell.exited(name);
  for (const name of masters) await cell.restart(name);
  await cell.leader(90_000);
  const after = await eventually("the job back from the checkpoint", async () => cell.job(job.id).catch(() => undefined), 30_000);
  t.deepEqual(
    after.tasks.map((task) => [task.index, task.state, task.node, task.pid]),
    before.tasks.map((task) => [task.index, task.state, task.node, task.pid]),
    "the same tasks, on the same machines, with the same processes",
  );
});

test.serial("a checkpoint of another task lifecycle version: masters refuse to start with an error naming it, inspect still reads it", async (t) => {
  const masters = cell.cell.processes.filter((p) => p.role === "master").map((p) => p.name);
  for (const name of masters) cell.kill(name, "SIGKILL");
  for (const name of masters) await cell.exited(name);

  // A newer Corral wrote the state: its checkpoint says task lifecycle version 99.
  const redis = connectRedis(cell.cell.redis, createLogger("test", "checkpoint-cell"), { password: cell.redisPassword });
  t.teardown(() => redis.disconnect());
  const current = (await new CheckpointStore(redis, cell.cell.cell, 1).read())!;
  const keys = cellKeys(cell.cell.cell);
  const newer = { ...current, machineVersion: 99, takenAt: Date.now(), records: [...current.records] };
  await redis.hset(keys.checkpoint, "data", Buffer.from(encode(newer)));

  const seen = await inspect();
  t.is(seen.checkpoint?.machineVersion, 99);
  t.false(seen.checkpoint?.compatible);
  t.true("error" in seen.recovered && /version 99/.test(seen.recovered.error));

  await cell.restart(masters[0]!);
  await cell.exited(masters[0]!);
  t.regex(cell.logOf(masters[0]!), /records of task lifecycle version 99; this master reads versions 1, 2, 3, 4/);
});
