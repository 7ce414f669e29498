import test from "ava";
import { execFileSync } from "node:child_process";
import { jetstreamManager } from "@nats-io/jetstream";
import type { CellSummary, FederatedJobView } from "@corral/contracts";
import { eventually, TestCell } from "@corral/testkit";

// Three cells (a, b, c), each on a nats-server of its own (a NATS cluster named after the
// cell), the servers joined into one super-cluster by NATS gateways; one corral gateway,
// connected to a's server, federates them. Each cell: its own Redis, one master, one
// scheduler, one borglet of two cores. A cell silent for 3 s is down.
const CELL_DOWN_AFTER_MS = 3000;
let cells: TestCell;
test.before(async () => {
  cells = await TestCell.start("federation-nats", {
    cells: ["a", "b", "c"],
    natsPerCell: true,
    gateways: 1,
    masters: 1,
    borglets: 1,
    borgletCapacity: { cpu: 2, ram: "2G" },
    cellDownAfterMs: CELL_DOWN_AFTER_MS,
  });
});
test.after.always(async () => {
  await cells?.stop();
});

async function federated(id: string): Promise<FederatedJobView> {
  const answer = await cells.http<{ job: FederatedJobView }>("GET", `/v1/jobs/${id}`);
  if (answer.status !== 200) throw new Error(`${id}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.job;
}

function runningByCell(job: FederatedJobView): Record<string, number> {
  return Object.fromEntries(job.cells.map((cell) => [cell.cell, job.tasks.filter((task) => task.cell === cell.cell && task.state === "running").length]));
}

async function runningAs(id: string, expected: Record<string, number>, timeoutMs: number): Promise<FederatedJobView> {
  return eventually(`${id} running as ${JSON.stringify(expected)}`, async () => {
    const job = await federated(id);
    return JSON.stringify(runningByCell(job)) === JSON.stringify(expected) ? job : undefined;
  }, timeoutMs);
}

async function health(): Promise<Record<string, string>> {
  const answer = await cells.http<{ cells: CellSummary[] }>("GET", "/v1/cells");
  return Object.fromEntries(answer.body.cells.map((cell) => [cell.cell, cell.health]));
}

/** The cells of web.tester.corral's SRV targets, once there are `count` of them (the gateway's DNS, fed by every cell's names bucket). */
async function srvCells(count: number, timeoutMs: number): Promise<Set<string>> {
  const [host, port] = cells.cell.dns!.split(":");
  const lines = await eventually(`${count} SRV records for web.tester.corral`, () => {
    const found = execFileSync("dig", [`@${host}`, "-p", port!, "+short", "SRV", "web.tester.corral"], { encoding: "utf8" }).split("\n").filter((line) => line !== "");
    return found.length === count ? found : undefined;
  }, timeoutMs);
  return new Set(lines.map((line) => line.split(" ")[3]!.split(".")[3]!));
}

const sleeper = (name: string, runtime: string, replicas: number) =>
  `job ${name} = { runtime = { ${runtime} } binary = '/bin/sleep' args = ['600'] requirements = { cpu = 0.01 ram = 8M ports = 1 } replicas = ${replicas} grace = 1s }`;

test.serial("each cell has a nats-server of its own; its services and JetStream assets stay in its NATS cluster", async (t) => {
  const members = cells.cell.cells ?? [];
  t.deepEqual(members.map((member) => member.cell), ["a", "b", "c"]);
  t.is(new Set(members.map((member) => member.nats)).size, 3, "three nats URLs");
  t.is(members[0]!.nats, cells.cell.nats, "the gateways' server is cell a's");
  t.deepEqual(cells.cell.processes.filter((p) => p.role === "nats").map((p) => p.name), ["a-nats-server", "b-nats-server", "c-nats-server"]);
  t.deepEqual(await health(), { a: "healthy", b: "healthy", c: "healthy" });

  // From a's server, every cell's names bucket is reachable, and lives in its own cell's cluster.
  const nc = await cells.connectAs("operator");
  try {
    const jsm = await jetstreamManager(nc);
    for (const cell of ["a", "b", "c"]) t.is((await jsm.streams.info(`KV_corral_${cell}_names`)).cluster?.name, cell, `cell ${cell}'s names bucket`);
    t.is((await jsm.streams.info("KV_corral_federation")).cluster?.name, "a", "the federation's bucket is in the gateways' cluster");
  } finally {
    await nc.close();
  }
});

test.serial("a spread job runs in every cell over the NATS gateways; c's nats-server killed: c is down and its share runs in a and b; back, 2/2/2 again", async (t) => {
  const submitted = await cells.http<{ job: FederatedJobView }>("POST", "/v1/jobs", { source: sleeper("web", "cells = ['a', 'b', 'c'] policy = 'spread'", 6) });
  t.is(submitted.status, 201, JSON.stringify(submitted.body));
  await runningAs("web.tester", { a: 2, b: 2, c: 2 }, 30_000);
  t.deepEqual(await srvCells(6, 10_000), new Set(["a", "b", "c"]), "names from every cell's bucket, read across the NATS gateways");

  const killedAt = Date.now();
  cells.kill("c-nats-server", "SIGKILL");
  await cells.exited("c-nats-server");
  await runningAs("web.tester", { a: 3, b: 3, c: 0 }, CELL_DOWN_AFTER_MS + 5000 + 3000);
  t.log(`c's 2 replicas running in a and b ${Date.now() - killedAt} ms after its nats-server died`);
  t.is((await health())["c"], "down");

  await cells.restart("c-nats-server");
  let lowest = Infinity;
  await eventually(
    "web back to 2/2/2",
    async () => {
      const job = await federated("web.tester");
      const running = runningByCell(job);
      if (job.cells.every((cell) => cell.reachable)) lowest = Math.min(lowest, running.a! + running.b! + running.c!);
      return job.cells.every((cell) => cell.reachable) && running.a === 2 && running.b === 2 && running.c === 2 ? job : undefined;
    },
    40_000,
  );
  t.true(lowest >= 6, `never fewer than 6 running while rebalancing (lowest ${lowest})`);
  t.deepEqual(await health(), { a: "healthy", b: "healthy", c: "healthy" });
  // The gateway's watch of c's names bucket (a stream in c's cluster) survived the server's restart.
  await eventually("web's names back in c", async () => ((await srvCells(6, 10_000)).has("c") ? true : undefined), 15_000);
});
