import test from "ava";
import { eventually, TestCell } from "@corral/testkit";

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("link-shards", { masters: 3, borglets: 3 });
});
test.after.always(async () => {
  await cell?.stop();
});

test.serial("heartbeats are shared by every master; standbys send the leader changes in full and the rest as alive lists", async (t) => {
  const job = await cell.submit(
    `job sharded = { runtime = { cell = 'local' } binary = 'sleep' args = ['600'] requirements = { cpu = 0.01 ram = 8M disk = 1M } replicas = 3 }`,
  );
  await eventually("3 running", async () => ((await cell.job(job.id)).summary.running === 3 ? true : undefined), 30_000);
  const first = (await cell.leader()).heartbeats;
  await new Promise((resolve) => setTimeout(resolve, 6000));
  const stats = await cell.leader();
  const direct = stats.heartbeats.direct - first.direct;
  const fromShards = stats.heartbeats.aliveReported - first.aliveReported + (stats.heartbeats.forwarded - first.forwarded);
  t.true(stats.heartbeats.aliveReported > first.aliveReported, "standby shards reported unchanged machines as alive");
  t.true(direct > 0, "the leader takes its own share whole");
  t.true(direct < 0.8 * (direct + fromShards), `the leader took ${direct} of ${direct + fromShards} heartbeats itself`);
  const nodes = await cell.nodes();
  t.deepEqual(
    nodes.map((node) => node.state),
    ["up", "up", "up"],
    "alive lists keep machines up",
  );
});

test.serial("a machine that comes back as a new process is taken whole again (its digest changed), and its tasks are reconciled", async (t) => {
  const before = (await cell.nodes()).find((node) => node.name === "borglet-0")!;
  cell.kill("borglet-0", "SIGKILL");
  await cell.exited("borglet-0");
  const restarted = await cell.restart("borglet-0");
  const after = await eventually(
    "the leader to know the new borglet process",
    async () => {
      const node = (await cell.nodes()).find((candidate) => candidate.name === "borglet-0");
      return node !== undefined && node.pid === restarted.pid ? node : undefined;
    },
    // A loaded machine (the whole suite on two cores) may take half a minute to start a process.
    60_000,
  ).catch((error: Error) => {
    // Say why: a restarted borglet that exited, or one still starting, reads differently in its log.
    const tail = cell.logOf("borglet-0").trim().split("\n").slice(-15).join("\n");
    throw new Error(`${error.message}; borglet-0 (pid ${restarted.pid}) is ${cell.alive("borglet-0") ? "alive" : "gone"}; the end of its log:\n${tail}`);
  });
  t.not(after.pid, before.pid);
  t.is(after.state, "up");
  const job = await eventually("the job whole again", async () => {
    const view = await cell.job("sharded.tester.local");
    return view.summary.running === 3 ? view : undefined;
  }, 30_000);
  t.is(new Set(job.tasks.map((task) => task.pid)).size, 3, "three distinct processes, none counted twice");
});

test.serial("a new leader knows every machine from the stored state at once, with its shape, and takes the shards' alive lists for them", async (t) => {
  const old = await cell.leader();
  const before = await cell.nodes();
  cell.kill(old.replica, "SIGKILL");
  const leader = await eventually("a new leader", async () => {
    const stats = await cell.leader().catch(() => undefined);
    return stats !== undefined && stats.replica !== old.replica ? stats : undefined;
  }, 60_000);
  // At once, before any heartbeat could have told it: every machine up with its shape.
  const known = await cell.nodes();
  t.deepEqual(
    known.map(({ name, state, capacity }) => ({ name, state, capacity })),
    before.map(({ name, capacity }) => ({ name, state: "up", capacity })),
  );
  // And the standbys' "alive, unchanged" lists are taken: the machines stay up on them.
  await eventually("the standbys to report machines alive to the new leader", async () => {
    const stats = await cell.leader();
    return stats.epoch === leader.epoch && stats.heartbeats.aliveReported >= 3 ? stats : undefined;
  }, 30_000);
  t.deepEqual((await cell.nodes()).map((node) => node.state), ["up", "up", "up"]);
  await cell.restart(old.replica);
});
