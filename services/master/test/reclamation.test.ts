import test from "ava";
import { Reclamation } from "../src/scheduling/reclamation.js";
import { addSpec, GIB, harness, MIB } from "./support/leader-harness.js";

test("a reservation decays from the limit toward usage plus a margin with its half-life, and jumps back up when usage grows", (t) => {
  const { state } = harness([{ name: "n1", cpu: 4, ramGiB: 4, ports: [100, 101] }]);
  const job = addSpec(state, { name: "web", requirements: { cpu: 2, ram: GIB, disk: 0, ports: 0 } });
  const ref = state.task("0.web.u.c")!;
  state.transition(ref, { type: "SCHEDULE", node: "n1", ports: [] }, 0);
  state.transition(ref, { type: "STARTED", pid: 1 }, 0);
  const reclamation = new Reclamation(1000);
  t.deepEqual(reclamation.reservationOf(ref.task, job, 5000), { cpu: 2, ram: GIB }, "unmeasured: the limit");
  reclamation.noteUsage(ref.task, job, { cpu: 0, ram: 0 }, 0);
  const target = { cpu: 0.01, ram: 8 * MIB };
  const half = reclamation.reservationOf(ref.task, job, 1000);
  t.is(half.ram, target.ram + (GIB - target.ram) / 2, "one half-life: half way");
  t.true(Math.abs(reclamation.reservationOf(ref.task, job, 60_000).cpu - target.cpu) < 1e-6, "long after: the target");
  t.deepEqual(reclamation.reclaimableOn(state, "n1", 60_000).ram, GIB - target.ram);
  reclamation.noteUsage(ref.task, job, { cpu: 1.5, ram: 700 * MIB }, 60_000);
  const grown = reclamation.reservationOf(ref.task, job, 60_000);
  t.is(grown.ram, Math.min(GIB, 700 * MIB * 1.2 + 8 * MIB), "growth is taken at once");
  t.is(grown.cpu, 1.5 * 1.2 + 0.01);
});
