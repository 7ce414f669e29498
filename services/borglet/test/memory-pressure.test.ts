import test from "ava";
import { tasksToEvict } from "../src/memory-pressure.js";

const MIB = 1024 ** 2;

test("under memory pressure, best-effort goes before batch, the largest first, until usage is back under the mark; production never", (t) => {
  const tasks = [
    { task: "prod", band: "production" as const, ramBytes: 600 * MIB },
    { task: "batch-small", band: "batch" as const, ramBytes: 100 * MIB },
    { task: "batch-big", band: "batch" as const, ramBytes: 200 * MIB },
    { task: "scavenger", band: "best-effort" as const, ramBytes: 90 * MIB },
  ];
  t.deepEqual(tasksToEvict(tasks, 1100 * MIB), [], "990M of 1100M: under 95%");
  // 990M of 1000M: over 95%; evicting the best-effort task brings it to 900M, 90%: enough.
  t.deepEqual(tasksToEvict(tasks, 1000 * MIB).map((chosen) => chosen.task), ["scavenger"]);
  // 990M of 900M: down to 810M takes the best-effort task, then the bigger batch one.
  t.deepEqual(tasksToEvict(tasks, 900 * MIB).map((chosen) => chosen.task), ["scavenger", "batch-big"]);
  t.deepEqual(tasksToEvict([{ task: "prod", band: "production" as const, ramBytes: 2000 * MIB }], 1000 * MIB), [], "production is never evicted");
});
