import test from "ava";
import type { PendingTask, WorkNode, WorkSnapshot } from "@corral/contracts";
import { bestFitScore } from "../src/best-fit.js";
import { candidateFrom, choosePorts, infeasibility } from "../src/feasibility.js";
import { placeTasks } from "../src/place-tasks.js";

const GIB = 1024 ** 3;

function node(name: string, cpu: number, ramGiB: number, extra: Partial<WorkNode> = {}): WorkNode {
  const capacity = { cpu, ram: ramGiB * GIB, disk: 100 * GIB };
  return { name, capacity, free: { ...capacity }, portRange: [20000, 20009], usedPorts: [], attributes: {}, ...extra };
}

function task(id: number, cpu: number, ramGiB: number, ports = 0): PendingTask {
  return {
    taskId: `${id}.job.user.cell`,
    incarnation: 0,
    requirements: { cpu, ram: ramGiB * GIB, disk: 0, ports },
    priority: "production",
  };
}

test("feasibility names the first resource that does not fit", (t) => {
  const small = candidateFrom(node("a", 1, 1));
  t.is(infeasibility(task(0, 2, 0.5), small), "cpu");
  t.is(infeasibility(task(0, 0.5, 2), small), "ram");
  t.is(infeasibility(task(0, 0.5, 0.5), small), undefined);
  const portless = candidateFrom(node("b", 4, 4, { portRange: [20000, 20001], usedPorts: [20000, 20001] }));
  t.is(infeasibility(task(0, 0.1, 0.1, 1), portless), "ports");
  t.is(infeasibility(task(0, 0.1, 0.1, 0), portless), undefined);
});

test("best fit prefers the machine left with the least spare capacity", (t) => {
  const roomy = candidateFrom(node("roomy", 8, 32));
  const snug = candidateFrom(node("snug", 2, 4));
  t.true(bestFitScore(task(0, 1, 1), snug) < bestFitScore(task(0, 1, 1), roomy));
});

test("ports are the lowest free ones in the range", (t) => {
  const candidate = candidateFrom(node("a", 1, 1, { usedPorts: [20000, 20002] }));
  t.deepEqual(choosePorts(candidate, 3), [20001, 20003, 20004]);
});

test("a round never overcommits: capacity and ports are reserved as tasks are placed", (t) => {
  const work: WorkSnapshot = {
    epoch: 1,
    nodes: [node("a", 1, 1), node("b", 1, 1)],
    tasks: [task(0, 0.6, 0.1, 1), task(1, 0.6, 0.1, 1), task(2, 0.6, 0.1, 1)],
  };
  const round = placeTasks(work);
  t.is(round.placements.length, 2);
  t.not(round.placements[0]!.node, round.placements[1]!.node, "0.6 + 0.6 cpu does not fit on one 1-cpu machine");
  t.deepEqual(round.unplaced, [{ taskId: "2.job.user.cell", refusals: { cpu: 2 } }]);
});

test("best fit packs small tasks onto the fuller machine first", (t) => {
  const work: WorkSnapshot = {
    epoch: 1,
    nodes: [node("empty", 4, 8), node("half", 4, 8, { free: { cpu: 2, ram: 4 * GIB, disk: 100 * GIB } })],
    tasks: [task(0, 0.5, 0.5), task(1, 0.5, 0.5)],
  };
  t.deepEqual(
    placeTasks(work).placements.map((p) => p.node),
    ["half", "half"],
  );
});

test("a bounded search scores at most searchLimit feasible machines, and still never overcommits", (t) => {
  const nodes = Array.from({ length: 100 }, (_, i) => node(`m${String(i).padStart(3, "0")}`, 1, 1));
  const tasks = Array.from({ length: 150 }, (_, i) => task(i, 0.6, 0.1));
  let draws = 0;
  const round = placeTasks({ epoch: 1, nodes, tasks }, { searchLimit: 4, random: () => (draws++ * 0.37) % 1 });
  t.is(round.placements.length, 100, "one 0.6-cpu task per 1-cpu machine");
  t.is(new Set(round.placements.map((p) => p.node)).size, 100);
  t.is(round.unplaced.length, 50);
  t.true(draws >= 150, "every task starts its search at a drawn position");
});
