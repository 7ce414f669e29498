import test from "ava";
import { TestCell, eventually } from "@corral/testkit";

// A lease far longer than any wait below: a new leader within the wait proves it did not
// wait for the old lease to run out.
const LEASE_TTL_MS = 300_000;
let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("lease-handover", { masters: 3, borglets: 1, leaseTtlMs: LEASE_TTL_MS });
});
test.after.always(async () => {
  await cell?.stop();
});

async function nextLeader(old: { replica: string; epoch: number }) {
  return eventually("a new leader", async () => {
    const leader = await cell.leader();
    return leader.replica !== old.replica ? leader : undefined;
  }, 60_000);
}

test.serial("a SIGKILLed leader is replaced as soon as its Redis connection closes, not when its long lease runs out", async (t) => {
  const old = await cell.leader();
  cell.kill(old.replica, "SIGKILL");
  const next = await nextLeader(old);
  t.true(next.epoch > old.epoch);
  t.regex(cell.logOf(next.replica), /Redis connection is closed: taking over/);
  const job = await cell.submit(`job after_kill = {\n  binary = 'hello_world_webserver'\n  args = { port = '%port%' }\n  requirements = { ram = 20M  cpu = 0.01 }\n  replicas = 1\n}`);
  t.is(job.id, "after_kill.tester.local", "the new leader accepts work");
  await cell.restart(old.replica);
});

test.serial("a leader stopped gracefully hands its lease over at once", async (t) => {
  const old = await cell.leader();
  cell.kill(old.replica, "SIGTERM");
  const next = await nextLeader(old);
  t.true(next.epoch > old.epoch);
  await cell.exited(old.replica);
  t.regex(cell.logOf(old.replica), /shutting down/);
  t.notRegex(cell.logOf(next.replica).split("\n").filter((line) => line.includes(`"epoch":${next.epoch}`)).join("\n"), /taking over before its lease runs out/, "the lease was free: nothing to take over");
  await cell.restart(old.replica);
});
