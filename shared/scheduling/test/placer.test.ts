import test from "ava";
import fc from "fast-check";
import { CellSnapshot } from "../src/cell-snapshot.js";
import { constraintMatches } from "../src/constraint-match.js";
import { ALL_TECHNIQUES, Placer, type Techniques } from "../src/placer.js";
import { POLICIES } from "../src/registry.js";
import type { MachineOffer, TaskRequest } from "../src/model.js";
import { GIB, machine, replicas, task } from "./fixtures.js";

function racks(count: number, perRack: number): MachineOffer[] {
  return Array.from({ length: count * perRack }, (_, i) => machine(`m${i}`, { attributes: { rack: `r${Math.floor(i / perRack)}`, power: `p${Math.floor(i / (2 * perRack))}` } }));
}

test("12 replicas spread across 4 racks with maxSkew 1 land 3 per rack", (t) => {
  const cell = new CellSnapshot(racks(4, 5));
  const placer = new Placer(cell, { policy: "best-fit", random: () => 0.3 });
  const round = placer.placeAll(replicas(12, { spread: { across: "rack", maxSkew: 1 } }));
  t.is(round.placements.length, 12);
  const perRack = new Map<string, number>();
  for (const p of round.placements) {
    const rack = cell.byName.get(p.node)!.domains.rack;
    perRack.set(rack, (perRack.get(rack) ?? 0) + 1);
  }
  t.deepEqual([...perRack.values()], [3, 3, 3, 3]);
});

test("best fit packs a job with spread 'none' onto as few machines as it can; E-PVM spreads it", (t) => {
  const small = { requirements: { cpu: 1, ram: 1 * GIB, disk: 0, ports: 0 }, spread: "none" as const };
  const packed = new Placer(new CellSnapshot(racks(2, 4)), { policy: "best-fit", random: () => 0.5 }).placeAll(replicas(8, small));
  const spread = new Placer(new CellSnapshot(racks(2, 4)), { policy: "e-pvm", random: () => 0.5 }).placeAll(replicas(8, small));
  t.is(new Set(packed.placements.map((p) => p.node)).size, 1, "8 one-core tasks fill one 8-core machine");
  t.is(new Set(spread.placements.map((p) => p.node)).size, 8, "one task per machine");
});

test("by default a job's tasks go to different machines, even under best fit, and share one only when no other fits", (t) => {
  const small = { requirements: { cpu: 1, ram: 1 * GIB, disk: 0, ports: 0 } };
  for (const policy of POLICIES) {
    const round = new Placer(new CellSnapshot(racks(2, 4)), { policy, random: () => 0.5 }).placeAll(replicas(8, small));
    t.is(new Set(round.placements.map((p) => p.node)).size, 8, `${policy}: one task per machine`);
  }
  // Two machines, one with room for a single task: the other three share the big one.
  const tight = new CellSnapshot([machine("big"), machine("small", { free: { cpu: 1, ram: 8 * GIB, disk: 100 * GIB } })]);
  const round = new Placer(tight, { policy: "best-fit", random: () => 0.5 }).placeAll(replicas(4, small));
  t.is(round.placements.length, 4, "a preference, never a refusal");
  t.is(round.placements.filter((p) => p.node === "big").length, 3);
});

test("jobs that share an equivalence class are each spread by their own tasks, with the techniques on or off", (t) => {
  const small = { requirements: { cpu: 1, ram: 1 * GIB, disk: 0, ports: 0 } };
  for (const equivalenceClasses of [true, false]) {
    const placer = new Placer(new CellSnapshot(racks(1, 3)), { policy: "best-fit", random: () => 0.5, techniques: { equivalenceClasses } });
    const a = replicas(3, { ...small, job: "a.alice.local" });
    const b = replicas(3, { ...small, job: "b.alice.local" });
    // Interleaved, so a class's kept answers would carry one job's placements over to the other.
    const round = placer.placeAll([a[0]!, b[0]!, a[1]!, b[1]!, a[2]!, b[2]!]);
    for (const job of ["a.alice.local", "b.alice.local"]) {
      const nodes = round.placements.filter((p) => p.taskId.endsWith(job)).map((p) => p.node);
      t.is(new Set(nodes).size, 3, `classes ${equivalenceClasses ? "on" : "off"}: ${job} on three machines (${nodes.join(", ")})`);
    }
  }
});

test("hard constraints, max-per-machine and preferences are honoured", (t) => {
  const offers = Array.from({ length: 6 }, (_, i) => machine(`m${i}`, { attributes: { arch: i < 3 ? "x86_64" : "arm64", ...(i === 1 ? { ssd: "yes" } : {}) } }));
  const cell = new CellSnapshot(offers);
  const placer = new Placer(cell, { policy: "best-fit", random: () => 0.1 });
  const round = placer.placeAll(
    replicas(4, {
      constraints: [{ attribute: "arch", op: "==", values: ["x86_64"] }],
      preferences: [{ attribute: "ssd", op: "exists", values: [], weight: 1000 }],
      maxPerMachine: 2,
    }),
  );
  t.is(round.placements.length, 4);
  const perMachine = new Map<string, number>();
  for (const p of round.placements) perMachine.set(p.node, (perMachine.get(p.node) ?? 0) + 1);
  for (const [node, count] of perMachine) {
    t.is(cell.byName.get(node)!.attributes["arch"], "x86_64");
    t.true(count <= 2);
  }
  t.is(perMachine.get("m1"), 2, "the preferred machine is filled first, up to the limit");
});

test("a task that fits nowhere is explained per filter over the whole cell", (t) => {
  const offers = [
    machine("small", { capacity: { cpu: 1, ram: 1 * GIB, disk: GIB }, attributes: { arch: "x86_64" } }),
    machine("arm", { attributes: { arch: "arm64" } }),
    machine("busy", { attributes: { arch: "x86_64" }, portRange: [1, 1], usedPorts: [1] }),
  ];
  const placer = new Placer(new CellSnapshot(offers), { policy: "hybrid", explain: true });
  const round = placer.placeAll([task("big", { requirements: { cpu: 2, ram: 4 * GIB, disk: 0, ports: 1 }, constraints: [{ attribute: "arch", op: "==", values: ["x86_64"] }] })]);
  t.is(round.placements.length, 0);
  t.deepEqual(round.unplaced[0]!.refusals, { "insufficient ram": 1, "constraint arch == x86_64 not met": 1, "not enough free ports": 1 });
});

const techniqueSets: Techniques[] = [
  ALL_TECHNIQUES,
  { ...ALL_TECHNIQUES, equivalenceClasses: false },
  { ...ALL_TECHNIQUES, scoreCache: false },
  { ...ALL_TECHNIQUES, relaxedRandomization: false },
  { ...ALL_TECHNIQUES, boundedSearch: false },
  { equivalenceClasses: false, scoreCache: false, relaxedRandomization: false, boundedSearch: false },
];

const offerArbitrary = fc.record({
  cpu: fc.integer({ min: 1, max: 16 }),
  ramGiB: fc.integer({ min: 1, max: 64 }),
  rack: fc.integer({ min: 0, max: 3 }),
  arch: fc.constantFrom("x86_64", "arm64"),
  ports: fc.integer({ min: 0, max: 4 }),
  usedPort: fc.boolean(),
});

const jobArbitrary = fc.record({
  replicas: fc.integer({ min: 1, max: 12 }),
  cpu: fc.constantFrom(0.25, 0.5, 1, 2, 4),
  ramGiB: fc.constantFrom(0.5, 1, 2, 8),
  ports: fc.integer({ min: 0, max: 2 }),
  constrained: fc.boolean(),
  maxPerMachine: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  spread: fc.boolean(),
});

test("property: after any round, with any technique set and policy, no machine is over capacity, no port is given twice, every constraint holds", (t) => {
  fc.assert(
    fc.property(
      fc.array(offerArbitrary, { minLength: 1, maxLength: 12 }),
      fc.array(jobArbitrary, { minLength: 1, maxLength: 8 }),
      fc.constantFrom(...techniqueSets),
      fc.constantFrom(...POLICIES),
      fc.integer(),
      (offerSpecs, jobs, techniques, policy, seed) => {
        const offers = offerSpecs.map((o, i) =>
          machine(`m${i}`, {
            capacity: { cpu: o.cpu, ram: o.ramGiB * GIB, disk: 10 * GIB },
            attributes: { rack: `r${o.rack}`, arch: o.arch },
            portRange: [30000, 30000 + o.ports],
            usedPorts: o.usedPort ? [30000] : [],
          }),
        );
        const tasks: TaskRequest[] = jobs.flatMap((job, j) =>
          replicas(job.replicas, {
            job: `job${j}.u.c`,
            requirements: { cpu: job.cpu, ram: job.ramGiB * GIB, disk: 0, ports: job.ports },
            constraints: job.constrained ? [{ attribute: "arch", op: "==", values: ["x86_64"] }] : [],
            ...(job.maxPerMachine === undefined ? {} : { maxPerMachine: job.maxPerMachine }),
            ...(job.spread ? { spread: { across: "rack" as const, maxSkew: 1 } } : {}),
          }),
        );
        let state = seed;
        const random = () => ((state = (state * 1103515245 + 12345) >>> 0) % 1_000_000) / 1_000_000;
        const cell = new CellSnapshot(offers);
        const round = new Placer(cell, { policy, techniques, random, enoughFeasible: 3, examineLimit: 5 }).placeAll(tasks);

        const byTask = new Map(tasks.map((task) => [task.taskId, task]));
        const used = new Map<string, { cpu: number; ram: number; ports: Set<number>; jobs: Map<string, number> }>();
        for (const placement of round.placements) {
          const task = byTask.get(placement.taskId)!;
          const offer = offers.find((o) => o.name === placement.node)!;
          const u = used.get(placement.node) ?? { cpu: 0, ram: 0, ports: new Set(offer.usedPorts), jobs: new Map() };
          used.set(placement.node, u);
          u.cpu += task.requirements.cpu;
          u.ram += task.requirements.ram;
          u.jobs.set(task.job, (u.jobs.get(task.job) ?? 0) + 1);
          if (placement.ports.length !== task.requirements.ports) return false;
          for (const port of placement.ports) {
            if (u.ports.has(port) || port < offer.portRange[0] || port > offer.portRange[1]) return false;
            u.ports.add(port);
          }
          if (u.cpu > offer.capacity.cpu + 1e-9 || u.ram > offer.capacity.ram) return false;
          for (const constraint of task.constraints) if (!constraintMatches(constraint, offer.attributes)) return false;
          if (task.maxPerMachine !== undefined && u.jobs.get(task.job)! > task.maxPerMachine) return false;
        }
        if (new Set(round.placements.map((p) => p.taskId)).size !== round.placements.length) return false;
        return round.placements.length + round.unplaced.length === tasks.length;
      },
    ),
    { numRuns: 300 },
  );
  t.pass("checked by fast-check");
});

test("property: with equivalence classes a round places as many tasks as a full search does, when the cell is not tight", (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 6 }), (count, jobs) => {
      const tasks = Array.from({ length: jobs }, (_, j) => replicas(count, { job: `j${j}.u.c` })).flat();
      const roomy = () => new CellSnapshot(racks(4, 10));
      const fast = new Placer(roomy(), { policy: "hybrid", random: () => 0.42 }).placeAll(tasks);
      const full = new Placer(roomy(), { policy: "hybrid", techniques: { equivalenceClasses: false, scoreCache: false, relaxedRandomization: false, boundedSearch: false } }).placeAll(tasks);
      return fast.placements.length === tasks.length && full.placements.length === tasks.length;
    }),
    { numRuns: 50 },
  );
  t.pass("checked by fast-check");
});

test("spread counts only the domains the job's constraints allow: racks it may not use do not hold the others back", (t) => {
  const cell = new CellSnapshot(racks(4, 3));
  const round = new Placer(cell, { policy: "hybrid", random: () => 0.2 }).placeAll(
    replicas(6, { spread: { across: "rack", maxSkew: 1 }, constraints: [{ attribute: "rack", op: "not_in", values: ["r0", "r1"] }] }),
  );
  t.is(round.placements.length, 6);
  const perRack: Record<string, number> = {};
  for (const p of round.placements) perRack[cell.byName.get(p.node)!.domains.rack] = (perRack[cell.byName.get(p.node)!.domains.rack] ?? 0) + 1;
  t.deepEqual(perRack, { r2: 3, r3: 3 });
});

test("an attribute named like an Object member does not exist unless the machine has it", (t) => {
  const cell = new CellSnapshot([machine("m")]);
  const round = new Placer(cell, { policy: "hybrid", explain: true }).placeAll([task("a", { constraints: [{ attribute: "constructor", op: "exists", values: [] }] })]);
  t.is(round.placements.length, 0);
});

test("a task that kept crashing on a machine goes to another one that fits, and to the same one only when nothing else does", (t) => {
  for (const policy of POLICIES) {
    // best fit and hybrid would pick the fuller machine, 'bad', without the penalty.
    const cell = new CellSnapshot([machine("bad", { free: { cpu: 1, ram: 1 * GIB, disk: 0 } }), machine("good")]);
    const round = new Placer(cell, { policy, random: () => 0.5 }).placeAll([task("0.crashy.alice.local", { job: "crashy.alice.local", avoid: ["bad"] })]);
    t.is(round.placements[0]?.node, "good", policy);
    const only = new CellSnapshot([machine("bad")]);
    t.is(new Placer(only, { policy, random: () => 0.5 }).placeAll([task("0.crashy.alice.local", { avoid: ["bad"] })]).placements[0]?.node, "bad", `${policy}: avoided, not forbidden`);
  }
});
