import test from "ava";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { JobView } from "@corral/contracts";
import { REPO_ROOT } from "@corral/launcher";
import { busyboxRoot, eventually, TestCell } from "@corral/testkit";

const run = promisify(execFile);
const CLI = join(REPO_ROOT, "services", "cli", "bin", "corral.js");
const MIB = 1024 ** 2;

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("images", { borglets: 2 });
});
test.after.always(async () => {
  await cell?.stop();
});

async function corral(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, "--dir", cell.cell.dir, ...args], { cwd: REPO_ROOT, timeout: 60_000 });
  return stdout;
}

/** A root filesystem with a static busybox and a page to serve. */
const webRoot = () => busyboxRoot("image-root", { applets: ["head", "tr", "sleep", "hostname", "cat"], files: { "www/index.html": "hello from the image\n" } });

async function running(id: string, count: number): Promise<JobView> {
  return eventually(`${count} tasks of ${id} running`, async () => {
    const view = await cell.job(id);
    return view.summary.running === count ? view : undefined;
  }, 60_000);
}

test.serial("push an image once, run a job from it in containers: its own root, hostname, pid namespace and memory limit", async (t) => {
  const pushed = JSON.parse(await corral("image", "push", webRoot(), "web:1", "--json")) as { uploaded: string[]; present: string[] };
  t.is(pushed.uploaded.length, 1);
  const again = JSON.parse(await corral("image", "push", webRoot(), "web:1", "--json")) as { uploaded: string[]; present: string[] };
  t.deepEqual(again.uploaded, [], "the same layer is not uploaded twice");
  t.regex(await corral("image", "ls"), /web:1\s+│?\s*1/);

  const job = await cell.submit(`job web = {
  image = 'web:1'
  binary = '/bin/busybox'
  args = ['httpd', '-f', '-p', '%port%', '-h', '/www']
  requirements = { cpu = 0.1 ram = 32M ports = 1 }
  replicas = 2
  grace = 1s
}`);
  const view = await running(job.id, 2);
  for (const task of view.tasks) {
    const page = await eventually(`${task.id} serving`, async () => (await fetch(`http://${task.host}:${task.port}/`)).text(), 15_000);
    t.is(page, "hello from the image\n");
    const pid = task.pid!;
    t.not(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync("/proc/self/ns/pid"), "its own pid namespace");
    t.not(readlinkSync(`/proc/${pid}/ns/uts`), readlinkSync("/proc/self/ns/uts"), "its own hostname");
    t.is(readFileSync(`/proc/${pid}/root/www/index.html`, "utf8"), "hello from the image\n", "its root is the image");
    const memoryPath = /^\d+:memory:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, "utf8"))?.[1];
    t.is(Number(readFileSync(`/sys/fs/cgroup/memory${memoryPath}/memory.limit_in_bytes`, "utf8")), 32 * MIB);
  }
  const measured = await eventually("usage measured", async () => {
    const tasks = (await cell.job(job.id)).tasks;
    return tasks.every((task) => task.usage !== undefined) ? tasks : undefined;
  }, 20_000);
  t.true(measured.every((task) => task.usage!.ram > 0), "memory in use, from the cgroup");
  t.regex(await corral("ps", "web"), /CPU\s.*RAM/);

  await corral("kill", "web", "--grace", "1s", "--wait");
  const mounts = readFileSync("/proc/mounts", "utf8");
  t.false(mounts.includes(cell.cell.dir), "every task's overlay is unmounted");
});

test.serial("over its memory limit a container is killed with reason OOM; a missing image fails the task saying so", async (t) => {
  const hog = await cell.submit(`job hog = {
  image = 'web:1'
  binary = 'sh'
  args = ['-c', 'x=$(head -c 100000000 /dev/zero | tr "\\\\000" a); echo survived']
  requirements = { cpu = 0.1 ram = 32M }
  replicas = 1
  restart = 'never'
}`);
  const dead = await eventually("hog dead", async () => {
    const view = await cell.job(hog.id);
    return view.summary.dead === 1 ? view : undefined;
  }, 60_000);
  t.regex(dead.tasks[0]!.reason ?? "", /^OOM: killed for going over its memory limit/);

  const lost = await cell.submit(`job lost = {
  image = 'nosuch:1'
  binary = 'sh'
  requirements = { cpu = 0.1 ram = 16M }
  replicas = 1
  restart = 'never'
}`);
  const failed = await eventually("lost failed", async () => {
    const view = await cell.job(lost.id);
    return view.summary.dead === 1 ? view : undefined;
  }, 60_000);
  t.regex(failed.tasks[0]!.reason ?? "", /failed to start: image nosuch:1: .*nosuch:1/);
});

test.serial("a job in an alloc set runs its containers inside the alloc's cgroup, which holds the alloc's memory", async (t) => {
  const slots = await running((await cell.submit(`alloc box = { requirements = { cpu = 0.4 ram = 96M } replicas = 1 }`)).id, 1);
  const job = await cell.submit(`job boxed = {
  alloc_set = 'box'
  image = 'web:1'
  binary = 'sleep'
  args = ['600']
  requirements = { cpu = 0.1 ram = 32M }
  replicas = 2
  grace = 1s
}`);
  const view = await running(job.id, 2);
  const alloc = slots.tasks[0]!;
  for (const task of view.tasks) {
    t.is(task.alloc, alloc.id);
    const path = /^\d+:memory:(.*)$/m.exec(readFileSync(`/proc/${task.pid!}/cgroup`, "utf8"))![1]!;
    const parent = path.slice(0, path.lastIndexOf("/"));
    t.true(parent.endsWith(`/alloc-${alloc.id}`), `${path} is inside the alloc's cgroup`);
    t.is(Number(readFileSync(`/sys/fs/cgroup/memory${parent}/memory.limit_in_bytes`, "utf8")), 96 * MIB);
    t.is(Number(readFileSync(`/sys/fs/cgroup/memory${path}/memory.limit_in_bytes`, "utf8")), 32 * MIB);
  }
  const first = /^\d+:memory:(.*)$/m.exec(readFileSync(`/proc/${view.tasks[0]!.pid!}/cgroup`, "utf8"))![1]!;
  const allocCgroup = `/sys/fs/cgroup/memory${first.slice(0, first.lastIndexOf("/"))}`;
  await corral("kill", "boxed", "--grace", "1s", "--wait");
  t.false(existsSync(allocCgroup), "the alloc's cgroup goes with its last task; the reservation stays with the scheduler");
  t.is((await cell.job(slots.id)).summary.running, 1);
});
