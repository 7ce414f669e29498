// A borglet that offers only containers (`--runtimes isolated`): the scheduler places host
// tasks elsewhere, and says why a host task has nowhere else to go.
import test from "ava";
import type { JobView } from "@corral/contracts";
import { eventually, TestCell } from "@corral/testkit";
import { pushBusyboxImage } from "./support/busybox-image.js";

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("runtimes", { borglets: 2, borgletRuntimes: (index) => (index === 0 ? "isolated" : undefined) });
  await pushBusyboxImage(cell, "sleeper:1", { applets: ["sleep"] });
});
test.after.always(async () => {
  await cell?.stop();
});

async function allRunning(id: string, replicas: number): Promise<JobView> {
  return eventually(`${id} running`, async () => {
    const job = await cell.job(id);
    return job.summary.running === replicas ? job : undefined;
  }, 60_000);
}

test("host tasks run only where the host runtime is offered; containers run on either; the machine says what it offers", async (t) => {
  const nodes = await cell.nodes();
  t.is(nodes.find((node) => node.name === "borglet-0")?.attributes["runtimes"], "isolated");
  t.is(nodes.find((node) => node.name === "borglet-1")?.attributes["runtimes"], "host,isolated");
  const host = await allRunning((await cell.submit(`job plain = {
  binary = '/bin/sleep'
  args = ['3600']
  requirements = { cpu = 0.01 ram = 10M }
  replicas = 4
}`)).id, 4);
  t.deepEqual([...new Set(host.tasks.map((task) => task.node))], ["borglet-1"], "every host task on the machine that runs them");
  const boxed = await cell.submit(`job boxed = {
  image = 'sleeper:1'
  binary = 'sleep'
  args = ['3600']
  requirements = { cpu = 0.01 ram = 16M }
  replicas = 4
}`);
  const containers = await allRunning(boxed.id, 4);
  t.true(containers.tasks.some((task) => task.node === "borglet-0"), "containers go to the machine that offers only them");
  await cell.client.kill("plain", "1s");
  await cell.client.kill("boxed", "1s");
});

test("a host task constrained to the machine that runs only containers stays pending, and why says so", async (t) => {
  const job = await cell.submit(`job stuck = {
  binary = '/bin/sleep'
  args = ['3600']
  requirements = { cpu = 0.01 ram = 10M }
  replicas = 1
  constraints = [ { attribute = 'runtimes' op = '==' value = 'isolated' } ]
}`);
  const why = await eventually("why it is pending", async () => {
    const answer = await cell.client.why(job.id);
    return answer.refusals.length > 0 ? answer : undefined;
  }, 30_000);
  t.true(why.refusals.some((refusal) => /runs no host tasks/.test(refusal.reason)), JSON.stringify(why.refusals));
  t.is((await cell.job(job.id)).summary.pending, 1);
  await cell.client.kill("stuck", "1s");
});
