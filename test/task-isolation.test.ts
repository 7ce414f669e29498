import test from "ava";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { JobView } from "@corral/contracts";
import { borgletCgroupPath, isSameProcessAlive, processStartTime } from "@corral/kit";
import { eventually, TestCell } from "@corral/testkit";

// Host tasks run as their owners' own unprivileged uids (--task-uids): on a real cell, one
// user's task tries what it must not do to another's, and the kernel refuses it.
let cell: TestCell;
/** each host task's pids limit on this cell's machine: low, so the fork bomb below reaches it at once */
const PIDS_MAX = 64;
const tokens: Record<string, string> = {};
test.before(async () => {
  cell = await TestCell.start("isolation", { masters: 1, borglets: 1, taskPidsMax: PIDS_MAX });
  for (const name of ["alice", "bob", "carol"]) tokens[name] = (await cell.client.addUser(name, "user")).token;
});
test.after.always(async () => {
  await cell?.stop();
});

const shellJob = (name: string, script: string, extra = "") => `
job ${name} = {
  binary = '/bin/sh'
  args = ['-c', '${script}']
  requirements = { ram = 10M  cpu = 0.01 }
  replicas = 1
  restart = 'never'
  ${extra}
}`;

async function logsOf(job: JobView): Promise<string> {
  return cell.client.logs(job.id, 0, "stdout", 64 * 1024);
}

async function running(job: JobView): Promise<JobView> {
  return eventually(`${job.id} running`, async () => {
    const view = await cell.job(job.id);
    return view.summary.running === 1 ? view : undefined;
  }, 30_000);
}

test("a user's task runs as their own uid, with a sandbox and logs that are theirs alone; another user's task can neither read them nor signal it", async (t) => {
  const alice = (await cell.clientWith(tokens["alice"]).submit(shellJob("keeper", "id -u; echo kept > $HOME/secret; pwd; sleep 600"), "keeper.borg")).job;
  const aliceRunning = await running(alice);
  const sandbox = join(cell.cell.dir, "borglets", "borglet-0", "sandboxes", `0.${alice.id}-0`);
  const [uidLine, pwd] = (await eventually("alice's task to write", async () => {
    const lines = (await logsOf(alice)).trim().split("\n");
    return lines.length >= 2 ? lines : undefined;
  }, 20_000)) as [string, string];
  const uid = Number(uidLine);
  t.true(uid >= 2_000_000, `runs as an unprivileged uid, not ${uidLine}`);
  t.is(pwd, sandbox, "in its sandbox");
  t.is(statSync(sandbox).uid, uid);
  t.is(statSync(sandbox).mode & 0o777, 0o700);
  const stdout = join(cell.cell.dir, "borglets", "borglet-0", "logs", `0.${alice.id}.stdout`);
  t.is(statSync(stdout).uid, uid);
  t.is(statSync(stdout).mode & 0o777, 0o600);

  const pid = aliceRunning.tasks[0]!.pid!;
  const probe = [
    "id -u",
    `cat ${sandbox}/secret 2>&1 || echo read-refused`,
    `cat ${stdout} 2>&1 || echo log-refused`,
    `kill -0 ${pid} 2>&1 || echo signal-refused`,
    "cat /etc/shadow 2>&1 || echo shadow-refused",
    "mount -t tmpfs none /mnt 2>&1 || echo mount-refused",
  ].join("; ");
  const bob = (await cell.clientWith(tokens["bob"]).submit(shellJob("prober", probe), "prober.borg")).job;
  await eventually(`${bob.id} done`, async () => ((await cell.job(bob.id)).summary.dead === 1 ? true : undefined), 30_000);
  const said = await logsOf(bob);
  const bobUid = Number(said.split("\n")[0]);
  t.true(bobUid >= 2_000_000 && bobUid !== uid, `bob has a uid of his own (${bobUid})`);
  for (const refused of ["read-refused", "log-refused", "signal-refused", "shadow-refused", "mount-refused"]) t.regex(said, new RegExp(refused), `${refused}: ${said}`);
  t.false(said.includes("kept"), "alice's file was not read");
  t.is((await cell.job(alice.id)).tasks[0]!.pid, pid, "alice's task runs on");

  await cell.client.kill(alice.id, "0s");
  await eventually("the sandbox removed with the run", () => (existsSync(sandbox) ? undefined : true), 20_000);
});

test("a setuid-root program gives a task nothing: host tasks run with no_new_privs", async (t) => {
  // A root-owned copy of id with the setuid bit, where the task can reach it.
  const dir = join(cell.cell.dir, "setuid");
  mkdirSync(dir, { mode: 0o755 });
  copyFileSync("/usr/bin/id", join(dir, "id"));
  chmodSync(join(dir, "id"), 0o4755);
  const job = (await cell.clientWith(tokens["alice"]).submit(shellJob("suid", `${join(dir, "id")} -u; grep NoNewPrivs /proc/self/status`), "suid.borg")).job;
  await eventually(`${job.id} done`, async () => ((await cell.job(job.id)).summary.dead === 1 ? true : undefined), 30_000);
  const [euid, flag] = (await logsOf(job)).trim().split("\n");
  t.true(Number(euid) >= 2_000_000, `the setuid program ran as the task's own uid, not ${euid}`);
  t.regex(flag ?? "", /^NoNewPrivs:\s+1$/);
});

test("root on the machine is for admins' jobs alone", async (t) => {
  const refused = await cell.clientWith(tokens["alice"]).send<{ error: { code: string; field: string } }>("POST", "/v1/jobs", shellJob("rooted", "id -u", "run_as_root = true"));
  t.is(refused.status, 403);
  t.is(refused.body.error.field, "runAsRoot");
  const admins = (await cell.client.submit(shellJob("rooted", "id -u", "run_as_root = true"), "rooted.borg")).job;
  await eventually(`${admins.id} done`, async () => ((await cell.job(admins.id)).summary.dead === 1 ? true : undefined), 30_000);
  t.is((await logsOf(admins)).trim(), "0");
});

test("a fork bomb is held by its task's pids limit while the machine runs others, and every process of it dies with its task", async (t) => {
  const carol = cell.clientWith(tokens["carol"]!);
  // Bounded on purpose (500 processes, far past the limit of 64): should the limit ever fail
  // to hold, this test fails without taking the machine's process table with it. The task's
  // own process (exec'd into sleep) lives on when the forking shell dies at its first refused fork.
  const bomb = (await carol.submit(shellJob("bomb", "id -u; (i=0; while [ $i -lt 500 ]; do sleep 600 & i=$((i+1)); done) & exec sleep 600"), "bomb.borg")).job;
  const uid = Number((await eventually("the bomb to say who it is", async () => (await logsOf(bomb)).trim().split("\n")[0] || undefined, 30_000)));
  t.true(uid >= 2_000_000);
  const dataDir = join(cell.cell.dir, "borglets", "borglet-0");
  const cgroup = join("/sys/fs/cgroup/pids", borgletCgroupPath("borglet-0", dataDir), `task-0.${bomb.id}-0`);
  // The kernel refuses its forks past the limit: the count of refusals grows, the processes do not.
  await eventually("forks refused at the limit", () => (Number(/^max (\d+)$/m.exec(readFileSync(join(cgroup, "pids.events"), "utf8"))?.[1] ?? 0) > 0 ? true : undefined), 30_000);
  t.is(readFileSync(join(cgroup, "pids.max"), "utf8").trim(), String(PIDS_MAX));
  t.true(Number(readFileSync(join(cgroup, "pids.current"), "utf8")) <= PIDS_MAX);
  // Its processes, as they are now: each is the bomb's (its uid), and there are at most the limit.
  // (Counting the uid's processes machine-wide would not do: each borglet numbers its users
  // itself, and other cells of the suite give the same uid to users of their own.)
  const bombs = readFileSync(join(cgroup, "cgroup.procs"), "utf8").trim().split("\n").map(Number);
  t.true(bombs.length > PIDS_MAX / 2 && bombs.length <= PIDS_MAX, `${bombs.length} processes in its cgroup`);
  const watched = bombs.map((pid) => ({ pid, startTime: processStartTime(pid) ?? -1 }));
  t.true(bombs.every((pid) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) === uid), "all of them the bomb's");

  // Meanwhile the machine starts and runs another user's task.
  const other = (await cell.clientWith(tokens["bob"]!).submit(shellJob("beside", "echo beside; sleep 600"), "beside.borg")).job;
  await running(other);
  await eventually("the other task to print", async () => ((await logsOf(other)).includes("beside") ? true : undefined), 20_000);

  await carol.kill(bomb.id, "0s");
  await eventually("every process of the bomb gone", () => (watched.some(isSameProcessAlive) ? undefined : true), 30_000);
  await eventually("its cgroup removed", () => (existsSync(cgroup) ? undefined : true), 10_000);
  await cell.client.kill(other.id, "0s");
});
