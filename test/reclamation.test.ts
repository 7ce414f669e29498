import test from "ava";
import type { JobView, WhyPending } from "@corral/contracts";
import { eventually, TestCell } from "@corral/testkit";
import { pushBusyboxImage } from "./support/busybox-image.js";

const MIB = 1024 ** 2;

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("reclamation", { masters: 1, borglets: 1, borgletCapacity: { cpu: 2, ram: "1G", disk: "1G" }, reservationHalfLifeMs: 500 });
  await pushBusyboxImage(cell, "sleeper:1", { applets: ["sleep"] });
});
test.after.always(async () => {
  await cell?.stop();
});

const sleeper = (name: string, priority: string, ram: string) =>
  `job ${name} = { image = 'sleeper:1' binary = 'sleep' args = ['600'] requirements = { cpu = 0.5 ram = ${ram} } replicas = 1 priority = '${priority}' grace = 1s }`;

async function state(id: string, wanted: string): Promise<JobView> {
  return eventually(`${id} ${wanted}`, async () => {
    const view = await cell.job(id);
    return view.tasks[0]!.state === wanted ? view : undefined;
  }, 30_000);
}

test("what a production task reserves but does not use is reclaimed for batch work, never for production", async (t) => {
  await state((await cell.submit(sleeper("big", "production", "700M"))).id, "running");
  // Its usage (a sleeping busybox) is measured, and its reservation decays toward it.
  const node = await eventually("reservation decayed", async () => {
    const [only] = await cell.nodes();
    return only !== undefined && (only.reclaimable?.ram ?? 0) > 600 * MIB ? only : undefined;
  }, 30_000);
  t.is(node.used.ram, 700 * MIB, "the machine's limits are unchanged");
  const scavenger = await state((await cell.submit(sleeper("scavenger", "batch", "600M"))).id, "running");
  t.is(scavenger.tasks[0]!.node, node.name, "batch runs on the reclaimed room: 1G machine, 700M + 600M of limits");
  const rival = await cell.submit(sleeper("rival", "production", "400M"));
  // 400M fits neither beside the limits nor after preempting the batch task (324M would be free): it waits.
  await new Promise((resolve) => setTimeout(resolve, 1500)); // a few scheduling passes
  t.is((await cell.job(rival.id)).tasks[0]!.state, "pending", "production never runs on reclaimed resources");
  const why = (await cell.http<WhyPending>("GET", `/v1/jobs/${rival.id}/why`)).body;
  t.deepEqual(why.refusals, [{ reason: "insufficient ram", machines: 1 }]);
});
