import test from "ava";
import type { PendingTask, WorkNode, WorkSnapshot } from "@corral/contracts";
import { planRound } from "../src/plan-round.js";

const GIB = 1024 ** 3;

function node(name: string, rack: string): WorkNode {
  const capacity = { cpu: 8, ram: 32 * GIB, disk: 100 * GIB };
  return { name, capacity, free: { ...capacity }, portRange: [20000, 20009], usedPorts: [], attributes: { rack } };
}

function pending(index: number, job: string, user: string, priority: PendingTask["priority"], extra: Partial<PendingTask> = {}): PendingTask {
  return { taskId: `${index}.${job}`, incarnation: 0, job, user, requirements: { cpu: 1, ram: GIB, disk: 0, ports: 1 }, priority, constraints: [], preferences: [], ...extra };
}

test("a spreading job counts its tasks outside the sample: the leader's whole-cell counts decide", (t) => {
  const work: WorkSnapshot = {
    epoch: 1,
    policy: "best-fit",
    nodes: [node("a1", "a"), node("b1", "b")],
    // Rack a already has two of the job's tasks on machines not in this sample.
    jobDomains: { "web.u.c": { rack: { a: 2 } } },
    tasks: [pending(2, "web.u.c", "u", "production", { spread: { across: "rack", maxSkew: 1 } }), pending(3, "web.u.c", "u", "production", { spread: { across: "rack", maxSkew: 1 } })],
  };
  const round = planRound(work, { random: () => 0.5, explain: true });
  t.deepEqual(round.placements.map((p) => p.node), ["b1", "b1"], "rack b catches up first");
});

test("the round follows the pending queue: bands first, users taking turns; ports are given once", (t) => {
  const work: WorkSnapshot = {
    epoch: 1,
    nodes: [node("only", "r")],
    tasks: [
      pending(0, "big.a.c", "a", "batch", { requirements: { cpu: 4, ram: GIB, disk: 0, ports: 1 } }),
      pending(1, "big.a.c", "a", "batch", { requirements: { cpu: 4, ram: GIB, disk: 0, ports: 1 } }),
      pending(0, "small.b.c", "b", "batch", { requirements: { cpu: 4, ram: GIB, disk: 0, ports: 1 } }),
      pending(0, "prod.c.c", "c", "production", { requirements: { cpu: 4, ram: GIB, disk: 0, ports: 1 } }),
    ],
  };
  const round = planRound(work, { random: () => 0.5, explain: true });
  t.deepEqual(round.placements.map((p) => p.taskId), ["0.prod.c.c", "0.big.a.c"], "production first, then user a's first task");
  t.deepEqual(round.unplaced.map((u) => u.task.taskId), ["0.small.b.c", "1.big.a.c"], "then user b's turn, then a's second");
  t.deepEqual(round.unplaced[0]!.refusals, { "insufficient cpu": 1 });
  t.not(round.placements[0]!.ports[0], round.placements[1]!.ports[0]);
});
