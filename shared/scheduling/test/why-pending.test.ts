import test from "ava";
import { CellSnapshot } from "../src/cell-snapshot.js";
import { profileFor } from "../src/registry.js";
import { explainPending, mayPreempt, type RunningTask } from "../src/why-pending.js";
import { GIB, machine, task } from "./fixtures.js";

const filters = profileFor("hybrid").filters;

test("per-filter counts over the whole cell, and the smaller request that would fit", (t) => {
  const cell = new CellSnapshot([
    ...Array.from({ length: 5 }, (_, i) => machine(`small${i}`, { free: { cpu: 8, ram: (2 + i) * GIB, disk: 100 * GIB } })),
    machine("arm", { attributes: { arch: "arm64" } }),
  ]);
  const big = task("0.big", { requirements: { cpu: 1, ram: 8 * GIB, disk: 0, ports: 0 }, constraints: [{ attribute: "arch", op: "!=", values: ["arm64"] }] });
  const why = explainPending(cell, filters, big, 3);
  t.is(why.machines, 6);
  t.is(why.fitting, 0);
  t.deepEqual(why.refusals, [
    { reason: "insufficient ram", machines: 5 },
    { reason: "constraint arch != arm64 not met", machines: 1 },
  ]);
  t.deepEqual(why.advice, ["fits 3 machines with ram ≤ 4G"], "3 pending tasks: the third-largest free ram among machines short only of ram");
});

test("preemption advice counts the fewest lower-band victims; production never preempts production", (t) => {
  const cell = new CellSnapshot([machine("m1", { free: { cpu: 1, ram: 32 * GIB, disk: 100 * GIB } }), machine("m2", { free: { cpu: 0, ram: 32 * GIB, disk: 100 * GIB } })]);
  const running: Record<string, RunningTask[]> = {
    m1: [
      { taskId: "0.batchy", band: "batch", requirements: { cpu: 2, ram: GIB, disk: 0, ports: 0 } },
      { taskId: "0.prod", band: "production", requirements: { cpu: 5, ram: GIB, disk: 0, ports: 0 } },
    ],
    m2: [
      { taskId: "1.batchy", band: "batch", requirements: { cpu: 1, ram: GIB, disk: 0, ports: 0 } },
      { taskId: "2.batchy", band: "best-effort", requirements: { cpu: 1, ram: GIB, disk: 0, ports: 0 } },
      { taskId: "3.batchy", band: "batch", requirements: { cpu: 1, ram: GIB, disk: 0, ports: 0 } },
    ],
  };
  const prod = task("0.new", { band: "production", requirements: { cpu: 3, ram: GIB, disk: 0, ports: 0 } });
  const why = explainPending(cell, filters, prod, 1, (m) => running[m.name] ?? []);
  t.true(why.advice.includes("fits after preempting 1 batch task (on m1)"), why.advice.join("; "));
  const batch = task("0.newbatch", { band: "batch", requirements: { cpu: 3, ram: GIB, disk: 0, ports: 0 } });
  const batchWhy = explainPending(cell, filters, batch, 1, (m) => running[m.name] ?? []);
  t.false(batchWhy.advice.some((line) => line.includes("preempting")), "batch cannot preempt batch, and one best-effort task is not enough");
  t.true(mayPreempt("monitoring", "batch"));
  t.false(mayPreempt("monitoring", "production"));
  t.false(mayPreempt("production", "production"));
  t.true(mayPreempt("batch", "best-effort"));
  t.false(mayPreempt("best-effort", "best-effort"));
});

test("a cell full of the job's own tasks: no advice of a negative request; it says the cell is full, what the pending tasks need, and what makes room", (t) => {
  // Three machines whose cpu the job's running tasks over-use a hair (reservations in fractions).
  const cell = new CellSnapshot(Array.from({ length: 3 }, (_, i) => machine(`m${i}`, { free: { cpu: -0.01, ram: 4 * GIB, disk: 100 * GIB } })));
  const web = task("3.web", { band: "production", requirements: { cpu: 0.5, ram: GIB, disk: 0, ports: 0 } });
  const why = explainPending(cell, filters, web, 2, () => [{ taskId: "0.web", band: "production", requirements: { cpu: 1, ram: GIB, disk: 0, ports: 0 } }]);
  t.deepEqual(why.refusals, [{ reason: "insufficient cpu", machines: 3 }]);
  t.false(why.advice.some((line) => /≤ -/.test(line)), why.advice.join("; "));
  t.deepEqual(why.advice, ["the cell is full for this job: its 2 pending tasks need 1 cpu more than the machines it may use have free; room comes as running tasks finish or are killed, or with more machines"]);
});
