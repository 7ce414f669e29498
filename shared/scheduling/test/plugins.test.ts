import test from "ava";
import { CellSnapshot, type Machine } from "../src/cell-snapshot.js";
import { totalScore } from "../src/plugin.js";
import { profileFor } from "../src/registry.js";
import { avoidCrashes } from "../src/plugins/avoid-crashes/index.js";
import { bestFit } from "../src/plugins/best-fit/index.js";
import { constraints } from "../src/plugins/constraints/index.js";
import { ePvm } from "../src/plugins/e-pvm/index.js";
import { hybrid } from "../src/plugins/hybrid/index.js";
import { defaultSpread } from "../src/plugins/default-spread/index.js";
import { maxPerMachine } from "../src/plugins/max-per-machine/index.js";
import { ports } from "../src/plugins/ports/index.js";
import { preferences } from "../src/plugins/preferences/index.js";
import { resources } from "../src/plugins/resources/index.js";
import { runtime } from "../src/plugins/runtime/index.js";
import { spreadFilter, spreadScorer } from "../src/plugins/spread/index.js";
import { GIB, machine, task } from "./fixtures.js";

test("resources: refuses for the first resource short, in the order people look at", (t) => {
  const cell = new CellSnapshot([machine("m", { free: { cpu: 0.5, ram: 2 * GIB, disk: 0 } })]);
  const plugin = resources.create();
  const m = cell.machines[0]!;
  t.is(plugin.filter(task("a", { requirements: { cpu: 0.5, ram: 2 * GIB, disk: 0, ports: 0 } }), m, cell), undefined);
  t.is(plugin.filter(task("b", { requirements: { cpu: 0.5, ram: 3 * GIB, disk: 0, ports: 0 } }), m, cell)?.text, "insufficient ram");
  t.is(plugin.filter(task("c", { requirements: { cpu: 1, ram: 1 * GIB, disk: 0, ports: 0 } }), m, cell)?.text, "insufficient cpu");
  t.is(plugin.filter(task("d", { requirements: { cpu: 0.1, ram: 1 * GIB, disk: 1, ports: 0 } }), m, cell)?.text, "insufficient disk");
  t.is(plugin.filter(task("e", { requirements: { cpu: 1, ram: 3 * GIB, disk: 0, ports: 0 } }), m, cell)?.code, "insufficient_ram", "a code beside the text");
  t.is(plugin.filter(task("f", { requirements: { cpu: 0.5 + 1e-12, ram: 1, disk: 0, ports: 0 } }), m, cell), undefined, "a sum of fractions a hair above an exact fit still fits");
});

test("ports: counts free ports of the range, and reservations take them", (t) => {
  const cell = new CellSnapshot([machine("m", { portRange: [100, 102], usedPorts: [101, 5000] })]);
  const plugin = ports.create();
  const m = cell.machines[0]!;
  const two = task("a", { requirements: { cpu: 0.1, ram: 1, disk: 0, ports: 2 } });
  t.is(m.freePorts, 2, "a used port outside the range does not count");
  t.is(plugin.filter(two, m, cell), undefined);
  cell.reserve(two, m, cell.choosePorts(m, 2));
  t.deepEqual([...m.usedPorts].sort(), [100, 101, 102]);
  t.is(plugin.filter(task("b", { requirements: { cpu: 0.1, ram: 1, disk: 0, ports: 1 } }), m, cell)?.text, "not enough free ports");
  t.false(plugin.appliesTo!(task("c")), "a task without ports skips the filter");
});

test("constraints: every operator, and the refusal names the constraint", (t) => {
  const cell = new CellSnapshot([machine("m", { attributes: { arch: "x86_64", rack: "r1" } })]);
  const plugin = constraints.create();
  const m = cell.machines[0]!;
  const withConstraint = (attribute: string, op: "==" | "!=" | "in" | "not_in" | "exists" | "not_exists", values: string[]) =>
    plugin.filter(task("a", { constraints: [{ attribute, op, values }] }), m, cell)?.text;
  t.is(withConstraint("arch", "==", ["x86_64"]), undefined);
  t.is(withConstraint("arch", "==", ["arm64"]), "constraint arch == arm64 not met");
  t.is(withConstraint("arch", "!=", ["arm64"]), undefined);
  t.is(withConstraint("rack", "in", ["r1", "r2"]), undefined);
  t.is(withConstraint("rack", "not_in", ["r1", "r2"]), "constraint rack not_in [r1, r2] not met");
  t.is(withConstraint("ssd", "exists", []), "constraint ssd exists not met");
  t.is(withConstraint("ssd", "not_exists", []), undefined);
  t.is(withConstraint("ssd", "!=", ["yes"]), undefined, "a missing attribute is not equal to anything");
});

test("default-spread: fewer of the job's tasks on a machine, its rack and its power domain score higher; a declared spread or 'none' turns it off", (t) => {
  const cell = new CellSnapshot([
    machine("empty", { attributes: { rack: "r1" } }),
    machine("one", { attributes: { rack: "r1" }, jobTasks: { "web.alice.local": 1, "other.bob.local": 5 } }),
    machine("apart", { attributes: { rack: "r2" } }),
  ]);
  const plugin = defaultSpread.create();
  const [empty, one, apart] = cell.machines as [Machine, Machine, Machine];
  t.is(plugin.score(task("a"), apart, cell), 100, "nothing of the job in its machine, rack or power domain");
  t.is(Math.round(plugin.score(task("a"), empty, cell)), Math.round((100 + 50 + 50) / 3), "the job's task next door, in the same rack");
  t.is(plugin.score(task("a"), one, cell), 50, "only this job's tasks count");
  cell.reserve(task("a"), one, []);
  t.is(Math.round(plugin.score(task("a"), one, cell)), 33, "a task placed in the cycle counts at once");
  t.true(plugin.jobBound === true, "scored per job, never kept in a shared equivalence class");
  t.false(plugin.appliesTo!(task("b", { spread: "none" })));
  t.false(plugin.appliesTo!(task("c", { spread: { across: "rack", maxSkew: 1 } })));
  t.true(plugin.appliesTo!(task("d")));
});

test("max-per-machine: counts the job's tasks already there", (t) => {
  const cell = new CellSnapshot([machine("m", { jobTasks: { "web.alice.local": 1 } })]);
  const plugin = maxPerMachine.create();
  const m = cell.machines[0]!;
  t.is(plugin.filter(task("a", { maxPerMachine: 2 }), m, cell), undefined);
  cell.reserve(task("a", { maxPerMachine: 2 }), m, []);
  t.regex(plugin.filter(task("b", { maxPerMachine: 2 }), m, cell)?.text ?? "", /already 2/);
  t.is(plugin.filter(task("c", { job: "other", maxPerMachine: 2 }), m, cell), undefined, "another job is not counted");
});

test("runtime: a machine that offers only containers refuses host tasks, naming why; one that says nothing takes either; an alloc asks for none", (t) => {
  const cell = new CellSnapshot([machine("boxes", { attributes: { runtimes: "isolated" } }), machine("any")]);
  const plugin = runtime.create();
  const [boxes, any] = cell.machines as [Machine, Machine];
  t.deepEqual(plugin.filter(task("a", { runtime: "host" }), boxes, cell), { code: "runtime_not_offered", text: "runs no host tasks" });
  t.is(plugin.filter(task("b", { runtime: "isolated" }), boxes, cell), undefined);
  t.is(plugin.filter(task("c", { runtime: "host" }), any, cell), undefined);
  t.false(plugin.appliesTo!(task("d")), "a task with no runtime (an alloc) is not filtered");
});

test("spread: a domain may run at most maxSkew ahead of the emptiest; the scorer prefers emptier domains", (t) => {
  const cell = new CellSnapshot([
    machine("a1", { attributes: { rack: "a" } }),
    machine("a2", { attributes: { rack: "a" } }),
    machine("b1", { attributes: { rack: "b" } }),
  ]);
  const filter = spreadFilter.create();
  const scorer = spreadScorer.create();
  const spread = { across: "rack" as const, maxSkew: 1 };
  const [a1, a2, b1] = cell.machines as [typeof cell.machines[0], typeof cell.machines[0], typeof cell.machines[0]];
  t.is(filter.filter(task("0", { spread }), a1!, cell), undefined);
  cell.reserve(task("0", { spread }), a1!, []);
  t.is(filter.filter(task("1", { spread }), a2!, cell)?.text, "spread across racks", "rack a would be two ahead of rack b");
  t.is(filter.filter(task("1", { spread }), b1!, cell), undefined);
  t.true(scorer.score(task("1", { spread }), b1!, cell) > scorer.score(task("1", { spread }), a2!, cell));
  cell.reserve(task("1", { spread }), b1!, []);
  t.is(filter.filter(task("2", { spread }), a2!, cell), undefined, "both racks have one: either may take the next");
});

test("preferences: the share of the preference weight a machine meets, as 0-100", (t) => {
  const cell = new CellSnapshot([machine("m", { attributes: { ssd: "yes", arch: "x86_64" } })]);
  const plugin = preferences.create();
  const score = plugin.score(
    task("a", {
      preferences: [
        { attribute: "ssd", op: "exists", values: [], weight: 20 },
        { attribute: "arch", op: "==", values: ["x86_64"], weight: 5 },
        { attribute: "gpu", op: "exists", values: [], weight: 50 },
      ],
    }),
    cell.machines[0]!,
    cell,
  );
  t.is(score, (100 * 25) / 75, "20 + 5 of 75");
});

test("policies: best fit prefers the fuller machine, E-PVM the emptier, hybrid avoids stranding", (t) => {
  const cell = new CellSnapshot([
    machine("full", { free: { cpu: 2, ram: 8 * GIB, disk: 100 * GIB } }),
    machine("empty"),
    machine("cpu-heavy", { free: { cpu: 2, ram: 30 * GIB, disk: 100 * GIB } }),
  ]);
  const [full, empty, cpuHeavy] = cell.machines;
  const small = task("a", { requirements: { cpu: 1, ram: 4 * GIB, disk: 0, ports: 0 } });
  const best = bestFit.create();
  const worst = ePvm.create();
  const mixed = hybrid.create();
  t.true(best.score(small, full!, cell) > best.score(small, empty!, cell));
  t.true(worst.score(small, empty!, cell) > worst.score(small, full!, cell));
  // cpu-heavy would be left with little cpu and most of its ram: that ram is stranded.
  t.true(mixed.score(small, full!, cell) > mixed.score(small, cpuHeavy!, cell));
  t.true(best.score(small, cpuHeavy!, cell) > best.score(small, empty!, cell), "best fit alone does not see stranding");
});

test("avoid-crashes: a machine the task crashed on scores far below any other, and tasks without crashes skip it", (t) => {
  const cell = new CellSnapshot([machine("bad"), machine("good")]);
  const plugin = avoidCrashes.create();
  const crashing = task("a", { avoid: ["bad"] });
  t.is(plugin.score(crashing, cell.machines[0]!, cell), 0);
  t.is(plugin.score(crashing, cell.machines[1]!, cell), 100);
  t.false(plugin.appliesTo!(task("b")));
});

test("resources: batch and best-effort tasks may use reclaimed room, production may not", (t) => {
  const cell = new CellSnapshot([machine("m", { free: { cpu: 0.5, ram: 1 * GIB, disk: 0 }, reclaimable: { cpu: 2, ram: 3 * GIB } })]);
  const plugin = resources.create();
  const m = cell.machines[0]!;
  const big = { requirements: { cpu: 2, ram: 3 * GIB, disk: 0, ports: 0 } };
  t.is(plugin.filter(task("b", { ...big, band: "batch" }), m, cell), undefined);
  t.is(plugin.filter(task("e", { ...big, band: "best-effort" }), m, cell), undefined);
  t.is(plugin.filter(task("p", { ...big, band: "production" }), m, cell)?.text, "insufficient ram");
});

test("scores are 0-100 per scorer and weighted: a preference's weight ranks machines but cannot outweigh the packing policy", (t) => {
  const cell = new CellSnapshot([machine("ssd", { attributes: { ssd: "yes" } }), machine("plain")]);
  const { scorers } = profileFor("best-fit");
  const [ssd, plain] = cell.machines as [(typeof cell.machines)[0], (typeof cell.machines)[0]];
  for (const weight of [1, 100]) {
    const wanting = task("a", { preferences: [{ attribute: "ssd", op: "exists", values: [], weight }] });
    t.is(totalScore(scorers, wanting, ssd, cell) - totalScore(scorers, wanting, plain, cell), 100, `weight ${weight}: at most what the policy can give`);
  }
  const wild = { plugin: { name: "wild", score: () => 1e6 }, weight: 1 };
  const below = { plugin: { name: "below", score: () => -50 }, weight: 3 };
  t.is(totalScore([wild, below], task("b"), plain, cell), 100, "clamped to 0-100 before the weight");
});
