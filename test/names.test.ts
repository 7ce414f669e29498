import test from "ava";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Kvm } from "@nats-io/kv";
import { bnsBucket, bnsRecordSchema } from "@corral/contracts";
import { eventually, TestCell } from "@corral/testkit";

const run = promisify(execFile);

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("names", { masters: 2, borglets: 2, downAfterMs: 2000 });
});
test.after.always(async () => {
  await cell?.stop();
});

/** Debian's dig, as a real DNS client, against the gateway's server. */
async function dig(...query: string[]): Promise<string[]> {
  const [host, port] = cell.cell.dns!.split(":");
  const { stdout } = await run("dig", [`@${host}`, "-p", port!, "+short", "+tries=1", "+time=2", ...query]);
  return stdout.trim().split("\n").filter((line) => line !== "");
}

test.serial("every task has a name that dig resolves: A for the task, SRV with ports for the job's healthy tasks", async (t) => {
  const job = await cell.submit(`job web = { binary = 'hello_world_webserver' args = { port = '%port%' } requirements = { ram = 10M cpu = 0.01 } replicas = 2 }`);
  const view = await eventually("web running", async () => {
    const seen = await cell.job(job.id);
    return seen.summary.running === 2 ? seen : undefined;
  }, 30_000);
  t.deepEqual(await eventually("the task's name", async () => ((await dig("0.web.tester.local.corral")).length > 0 ? dig("0.web.tester.local.corral") : undefined), 10_000), ["127.0.0.1"]);
  const srv = await eventually("the job's SRV", async () => {
    const lines = await dig("SRV", "web.tester.local.corral");
    return lines.length === 2 ? lines : undefined;
  }, 10_000);
  // "priority weight port target"
  t.deepEqual(srv.map((line) => Number(line.split(" ")[2])).sort(), view.tasks.map((task) => task.port!).sort());
  t.true(srv.every((line) => /\d\.web\.tester\.local\.corral\.$/.test(line)));
  t.deepEqual(await dig("9.web.tester.local.corral"), [], "no task 9: no answer");
  const { stdout } = await run("dig", [`@${cell.cell.dns!.split(":")[0]}`, "-p", cell.cell.dns!.split(":")[1]!, "+tries=1", "example.com"]);
  t.regex(stdout, /status: REFUSED/, "not a recursive resolver");

  // The registry itself is a watchable NATS KV bucket with the job's size and healthy tasks.
  const nc = await cell.connectAs("operator");
  const kv = await new Kvm(nc).open(bnsBucket(cell.cell.cell));
  const record = bnsRecordSchema.parse(JSON.parse((await kv.get("web.tester.local.corral"))!.string()));
  t.is(record.size, 2);
  t.deepEqual(record.healthy, [0, 1]);
  await nc.close();
});

test.serial("a name follows its task when the task is rescheduled", async (t) => {
  const view = await cell.job("web.tester.local");
  const task = view.tasks[0]!;
  const before = (await dig("SRV", "0.web.tester.local.corral"))[0]!;
  t.is(Number(before.split(" ")[2]), task.port!);
  cell.kill(task.node!, "SIGKILL");
  // Its machine is written off after down-after, the task placed on the other one, and the name moves with it.
  const after = await eventually("the name moved", async () => {
    const lines = await dig("SRV", "0.web.tester.local.corral");
    return lines.length === 1 && lines[0] !== before ? lines[0] : undefined;
  }, 30_000);
  const moved = (await cell.job("web.tester.local")).tasks[0]!;
  t.not(moved.node, task.node);
  t.is(Number(after.split(" ")[2]), moved.port!);
});
