import test from "ava";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type { JobView, NodeView, WhyPending } from "@corral/contracts";
import { REPO_ROOT } from "@corral/launcher";
import { eventually, TestCell } from "@corral/testkit";

const run = promisify(execFile);
const CLI = join(REPO_ROOT, "services", "cli", "bin", "corral.js");
const MIB = 1024 ** 2;

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("allocs", { masters: 1, borglets: 3, borgletCapacity: { cpu: 4, ram: "4G", disk: "10G" } });
});
test.after.always(async () => {
  await cell?.stop();
});

const SLOTS = `alloc slots = {
  requirements = { cpu = 0.5 ram = 200M }
  replicas = 2
  max_per_machine = 1
}`;

const webIn = (name: string, replicas: number, ram: string) => `job ${name} = {
  alloc_set = 'slots'
  binary = 'hello_world_webserver'
  args = { port = '%port%' }
  requirements = { cpu = 0.05 ram = ${ram} }
  replicas = ${replicas}
}`;

async function running(id: string, count: number): Promise<JobView> {
  return eventually(`${count} tasks of ${id} running`, async () => {
    const view = await cell.job(id);
    return view.summary.running === count ? view : undefined;
  }, 30_000);
}

const ramUsed = (nodes: NodeView[]) => nodes.reduce((sum, node) => sum + node.used.ram, 0);

test.serial("an alloc set reserves on machines; a job in it runs real tasks inside the allocs; the room stays reserved while they come and go", async (t) => {
  const slots = await running((await cell.submit(SLOTS)).id, 2);
  t.is(slots.kind, "alloc");
  t.is(new Set(slots.tasks.map((task) => task.node)).size, 2, "max_per_machine = 1 holds for allocs");
  t.is(ramUsed(await cell.nodes()), 400 * MIB, "two 200M reservations, nothing running yet");

  const web = await running((await cell.submit(webIn("web", 2, "50M"))).id, 2);
  for (const task of web.tasks) {
    const alloc = slots.tasks[task.index]!;
    t.is(task.alloc, alloc.id, "task i runs in alloc i");
    t.is(task.node, alloc.node);
    // Running means started; the server may take a moment more to listen.
    const status = await eventually(`${task.id} answering`, async () => (await fetch(`http://${task.host}:${task.port}/`)).status, 15_000);
    t.is(status, 200, "a real process answers from inside the alloc");
  }
  t.is(ramUsed(await cell.nodes()), 400 * MIB, "tasks in allocs take the allocs' room, not more of the machines'");
  const held = await cell.job(slots.id);
  t.deepEqual(held.tasks.map((task) => task.allocUsed?.ram), [50 * MIB, 50 * MIB]);

  const killed = await cell.http<{ error: { message: string } }>("DELETE", `/v1/jobs/${slots.id}`);
  t.is(killed.status, 409);
  t.regex(killed.body.error.message, /alloc set slots still runs job web; kill it first/);

  t.is((await cell.http("DELETE", `/v1/jobs/${web.id}`)).status, 202);
  await eventually("web's tasks gone", async () => ((await cell.job(web.id)).summary.dead === 2 ? true : undefined), 20_000);
  t.is(ramUsed(await cell.nodes()), 400 * MIB, "the reservation outlives its tasks");
  const again = await running((await cell.submit(webIn("web2", 2, "100M"))).id, 2);
  t.deepEqual(again.tasks.map((task) => task.alloc), slots.tasks.map((task) => task.id));
  t.is((await cell.http("DELETE", `/v1/jobs/${again.id}`)).status, 202);
  await eventually("web2's tasks gone", async () => ((await cell.job(again.id)).summary.dead === 2 ? true : undefined), 20_000);
});

test.serial("a job in an alloc set: too big for one alloc, or naming no alloc set, is refused naming the field; what does not fit now waits, and why says so", async (t) => {
  const tooBig = await cell.http<{ error: { field: string; message: string } }>("POST", "/v1/jobs", { source: webIn("huge", 1, "300M"), file: "huge.borg" });
  t.is(tooBig.status, 400);
  t.is(tooBig.body.error.field, "requirements.ram");
  t.regex(tooBig.body.error.message, /300M is more than one alloc of 'slots' holds \(200M\)/);
  const nowhere = await cell.http<{ error: { field: string; message: string } }>("POST", "/v1/jobs", { source: webIn("lost", 1, "10M").replace("'slots'", "'nosuch'"), file: "lost.borg" });
  t.is(nowhere.status, 400);
  t.is(nowhere.body.error.field, "allocSet");
  t.regex(nowhere.body.error.message, /no alloc set of that name/);

  // Each 200M alloc takes one 150M task: the third waits for room.
  const wide = await cell.submit(webIn("wide", 3, "150M"));
  await running(wide.id, 2);
  const why = await eventually("why wide waits", async () => {
    const answer = await cell.http<WhyPending>("GET", `/v1/jobs/${wide.id}/why`);
    return answer.status === 200 && answer.body.pending === 1 ? answer.body : undefined;
  }, 10_000);
  t.is(why.over, "allocs");
  t.is(why.machines, 2);
  t.is(why.fitting, 0);
  t.deepEqual(why.refusals, [{ reason: "insufficient ram left in the alloc", machines: 2 }]);
  const { stdout } = await run(process.execPath, [CLI, "--dir", cell.cell.dir, "why", "wide"], { cwd: REPO_ROOT, timeout: 60_000 });
  t.regex(stdout, /0 of 2 allocs can take one now/);
  t.regex(stdout, /2 allocs: insufficient ram left in the alloc/);
  t.is((await cell.http("DELETE", `/v1/jobs/${wide.id}`)).status, 202);
});

test.serial("killing the alloc set once it is empty frees the machines", async (t) => {
  await eventually("jobs in slots gone", async () => {
    const jobs = await cell.jobs();
    return jobs.every((job) => job.allocSet === undefined || job.summary.dead === job.replicas) ? true : undefined;
  }, 20_000);
  t.is((await cell.http("DELETE", "/v1/jobs/slots.tester.local")).status, 202);
  await eventually("allocs released", async () => ((await cell.job("slots.tester.local")).summary.dead === 2 ? true : undefined), 10_000);
  t.is(ramUsed(await cell.nodes()), 0);
});
