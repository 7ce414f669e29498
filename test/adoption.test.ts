import test from "ava";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { JobView } from "@corral/contracts";
import { borgletCgroupPath } from "@corral/kit";
import { eventually, processExists, TestCell } from "@corral/testkit";
import { pushBusyboxImage } from "./support/busybox-image.js";

let cell: TestCell;
test.before(async () => {
  // A borglet restarted on a loaded machine can take longer than the default down-after to
  // come back; its machine would then be written off and its tasks placed again, which is
  // not what these tests are about.
  cell = await TestCell.start("adoption", { masters: 1, borglets: 1, downAfterMs: 30_000 });
  await pushBusyboxImage(cell, "sleeper:1", { applets: ["sleep"] });
});
test.after.always(async () => {
  await cell?.stop();
});

async function running(id: string): Promise<JobView> {
  return eventually(`${id} running`, async () => {
    const view = await cell.job(id);
    return view.summary.running === 1 ? view : undefined;
  }, 30_000);
}

const shape = (job: JobView) => job.tasks.map((task) => ({ pid: task.pid, incarnation: task.incarnation, node: task.node, state: task.state }));

test.serial("a borglet killed and started again adopts the tasks it left running: same processes, nothing started twice", async (t) => {
  const host = await running((await cell.submit("job plain = { binary = '/bin/sleep' args = ['600'] requirements = { cpu = 0.01 ram = 8M } replicas = 1 grace = 1s }")).id);
  const boxed = await running((await cell.submit("job boxed = { image = 'sleeper:1' binary = 'sleep' args = ['600'] requirements = { cpu = 0.01 ram = 8M } replicas = 1 grace = 1s }")).id);
  cell.kill("borglet-0", "SIGKILL");
  await cell.exited("borglet-0");
  t.true(processExists(host.tasks[0]!.pid!) && processExists(boxed.tasks[0]!.pid!), "tasks keep running while their borglet is down");
  await cell.restart("borglet-0");
  // A restarted service can take half a minute to start on a machine loaded by the rest of the suite.
  await eventually("the borglet adopted both", () => ((cell.logOf("borglet-0").match(/adopted a task left running/g) ?? []).length >= 2 ? true : undefined), 60_000);
  await new Promise((resolve) => setTimeout(resolve, 3000)); // heartbeats with the adopted tasks, reconciled
  t.deepEqual(shape(await cell.job(host.id)), shape(host));
  t.deepEqual(shape(await cell.job(boxed.id)), shape(boxed));
});

test.serial("a task killed while its borglet was down is stopped once the borglet is back, and its container's leftovers go", async (t) => {
  const boxed = await cell.job("boxed.tester.local");
  const pid = boxed.tasks[0]!.pid!;
  cell.kill("borglet-0", "SIGKILL");
  await cell.exited("borglet-0");
  t.is((await cell.http("DELETE", `/v1/jobs/${boxed.id}`)).status, 202);
  t.true(processExists(pid), "nobody was there to stop it");
  await cell.restart("borglet-0");
  await eventually("boxed dead", async () => ((await cell.job(boxed.id)).summary.dead === 1 ? true : undefined), 30_000);
  // Dead in the leader's state may come first (a borglet slower to return than down-after is
  // written off with its tasks); the adopted process is then revoked as not assigned there.
  await eventually("the adopted process stopped", () => (processExists(pid) ? undefined : true), 15_000);
  await eventually("its overlay unmounted", () => (readFileSync("/proc/mounts", "utf8").includes(join(cell.cell.dir, "borglets")) ? undefined : true), 10_000);
});

test.serial("an adopted host task's stop reaches what it forked out of its process group: its pids cgroup is found again by its task and run", async (t) => {
  // The task's child leaves its process group (setsid), which a group signal alone would miss.
  const job = await running((await cell.submit("job forker = { binary = '/bin/sh' args = ['-c', 'setsid sleep 600 & exec sleep 600'] requirements = { cpu = 0.01 ram = 8M } replicas = 1 grace = 1s }")).id);
  const cgroup = join("/sys/fs/cgroup/pids", borgletCgroupPath("borglet-0", join(cell.cell.dir, "borglets", "borglet-0")), `task-0.${job.id}-0`);
  const inCgroup = await eventually("both processes in the task's cgroup", () => {
    const pids = readFileSync(join(cgroup, "cgroup.procs"), "utf8").trim().split("\n").filter((line) => line !== "").map(Number);
    return pids.length === 2 ? pids : undefined;
  }, 20_000);
  const escaped = inCgroup.find((pid) => pid !== job.tasks[0]!.pid)!;
  t.not(readFileSync(`/proc/${escaped}/stat`, "utf8").split(" ")[4], String(job.tasks[0]!.pid), "the child has a process group of its own");
  const adoptions = () => (cell.logOf("borglet-0").match(/adopted a task left running/g) ?? []).length;
  const before = adoptions();
  cell.kill("borglet-0", "SIGKILL");
  await cell.exited("borglet-0");
  await cell.restart("borglet-0");
  await eventually("the borglet adopted it", () => (adoptions() > before ? true : undefined), 60_000);
  const sandbox = join(cell.cell.dir, "borglets", "borglet-0", "sandboxes", `0.${job.id}-0`);
  t.true(existsSync(sandbox), "the run has its sandbox");
  await cell.client.kill(job.id, "0s");
  await eventually("the task and its escaped child stopped", () => (inCgroup.some(processExists) ? undefined : true), 30_000);
  await eventually("its cgroup removed", () => (existsSync(cgroup) ? undefined : true), 10_000);
  await eventually("its sandbox removed with it, though another borglet started it", () => (existsSync(sandbox) ? undefined : true), 10_000);
});
