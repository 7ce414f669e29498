import test from "ava";
import type { JobView } from "@corral/contracts";
import { TestCell, eventually } from "@corral/testkit";

// Short leases so failovers are quick; three masters: one leader, two standbys.
let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("failover", { masters: 3, borglets: 2, leaseTtlMs: 2000 });
});
test.after.always(async () => {
  await cell?.stop();
});

function spec(name: string, replicas = 2): string {
  return `job ${name} = {
  binary = 'hello_world_webserver'
  args = { port = '%port%' }
  requirements = { ram = 20M  cpu = 0.01 }
  replicas = ${replicas}
}`;
}

async function allRunning(id: string, replicas: number): Promise<JobView> {
  // Three restarted masters can take half a minute to start on a machine loaded by the rest of the suite.
  return eventually(`${id} running`, async () => {
    const job = await cell.job(id);
    return job.summary.running === replicas ? job : undefined;
  }, 90_000);
}

/** Running tasks keep their process across a failover: same pid, same incarnation, same machine. */
function sameTasks(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }, before: JobView, after: JobView): void {
  const shape = (job: JobView) => job.tasks.map((task) => ({ index: task.index, pid: task.pid, node: task.node, incarnation: task.incarnation, state: task.state }));
  t.deepEqual(shape(after), shape(before), "no task was restarted or duplicated by the failover");
}

test.serial("SIGKILL the leader: a standby leads with a higher epoch, acknowledged jobs and running tasks are kept", async (t) => {
  const before = await allRunning((await cell.submit(spec("before-kill"))).id, 2);
  const old = await cell.leader();
  cell.kill(old.replica, "SIGKILL");
  const next = await eventually("a new leader", async () => {
    const leader = await cell.leader();
    return leader.replica !== old.replica ? leader : undefined;
  }, 15_000);
  t.true(next.epoch > old.epoch);
  const after = await allRunning("before-kill.tester.local", 2);
  sameTasks(t, before, after);
  await allRunning((await cell.submit(spec("after-kill"))).id, 2);
  await cell.restart(old.replica);
});

test.serial("SIGSTOP the leader past its lease, then SIGCONT: it steps down without acting, nothing runs twice", async (t) => {
  const before = await allRunning((await cell.submit(spec("before-stop"))).id, 2);
  const old = await cell.leader();
  cell.kill(old.replica, "SIGSTOP");
  const next = await eventually("a new leader", async () => {
    const leader = await cell.leader();
    return leader.replica !== old.replica ? leader : undefined;
  }, 15_000);
  t.true(next.epoch > old.epoch);
  // Work accepted by the new leader while the old one is frozen.
  const during = await cell.submit(spec("during-stop"));
  cell.kill(old.replica, "SIGCONT");
  await eventually("the old leader to step down", () => (/stepping down/.test(cell.logOf(old.replica)) ? true : undefined), 10_000);
  await allRunning(during.id, 2);
  sameTasks(t, before, await allRunning("before-stop.tester.local", 2));
  // A thawed leader acting on its old term would answer with an epoch below the new leader's.
  t.true((await cell.leader()).epoch >= next.epoch, "no master leads with the thawed, older epoch");
  t.true(cell.alive(old.replica), "it stays as a standby");
});

test.serial("kill every master and start them again: the state comes back from Redis", async (t) => {
  const before = await allRunning((await cell.submit(spec("survivor", 3))).id, 3);
  const jobsBefore = (await cell.jobs()).map((job) => job.id).sort();
  const masters = cell.cell.processes.filter((p) => p.role === "master").map((p) => p.name);
  for (const name of masters) cell.kill(name, "SIGKILL");
  for (const name of masters) await cell.exited(name);
  for (const name of masters) await cell.restart(name);
  const after = await allRunning(before.id, 3);
  sameTasks(t, before, after);
  t.deepEqual((await cell.jobs()).map((job) => job.id).sort(), jobsBefore);
});

test.serial("restart nats-server: every service reconnects and the cell works again", async (t) => {
  cell.kill("nats-server", "SIGKILL");
  await cell.exited("nats-server");
  await cell.restart("nats-server");
  const job = await eventually("a submission after the restart", async () => cell.submit(spec("after-nats")), 30_000);
  await allRunning(job.id, 2);
  // Each client reconnects after its own jittered wait, so a borglet may still be on its way
  // (and briefly down) when the first tasks already run on the other one.
  const nodes = await eventually("both machines up again", async () => {
    const seen = await cell.nodes();
    return seen.filter((node) => node.state === "up").length === 2 ? seen : undefined;
  }, 20_000);
  t.deepEqual(nodes.map((node) => node.state), ["up", "up"]);
  for (const p of cell.cell.processes) t.true(cell.alive(p.name), `${p.name} is still running`);
});

test.serial("restart redis-server (AOF) under load: nothing acknowledged is lost", async (t) => {
  const acknowledged: string[] = [];
  let stop = false;
  const producer = (async () => {
    for (let i = 0; !stop; i++) {
      try {
        acknowledged.push((await cell.submit(spec(`load-${i}`, 1))).id);
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50)); // refused while Redis is away: not acknowledged
      }
    }
  })();
  await eventually("some acknowledged submissions", () => (acknowledged.length >= 5 ? true : undefined), 20_000);
  cell.kill("redis-server", "SIGTERM");
  await cell.exited("redis-server");
  await cell.restart("redis-server");
  const countAtRestart = acknowledged.length;
  await eventually("submissions after the restart", () => (acknowledged.length >= countAtRestart + 5 ? true : undefined), 30_000);
  stop = true;
  await producer;
  // A new leader term reads everything back from Redis: make one by killing the leader.
  const leader = await cell.leader();
  cell.kill(leader.replica, "SIGKILL");
  await eventually("a new leader", async () => ((await cell.leader()).replica !== leader.replica ? true : undefined), 15_000);
  const stored = new Set((await cell.jobs()).map((job) => job.id));
  const lost = acknowledged.filter((id) => !stored.has(id));
  t.deepEqual(lost, [], "every acknowledged submission is in the state a new leader loaded");
  t.true(acknowledged.length >= 10);
  await cell.restart(leader.replica);
});
