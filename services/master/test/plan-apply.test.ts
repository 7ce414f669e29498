import test from "ava";
import fc from "fast-check";
import type { CorralError, Plan } from "@corral/contracts";
import { constraintMatches } from "@corral/scheduling";
import { applyPlan } from "../src/scheduling/scheduling-handlers.js";
import { addJob, harness } from "./support/leader-harness.js";

const plan = (placements: Plan["placements"], extra: Partial<Plan> = {}): Plan => ({ scheduler: "s", epoch: 7, placements, ...extra });

test("a plan from another epoch is refused whole", async (t) => {
  const { ctx } = harness([{ name: "n1", cpu: 4, ramGiB: 8, ports: [100, 101] }]);
  const error = await t.throwsAsync(applyPlan(ctx, plan([], { epoch: 6 })));
  t.is((error as CorralError).code, "stale_epoch");
});

test("placements are re-checked against live usage: what still fits is committed and granted, the rest comes back with the reason", async (t) => {
  const { ctx, state, recorded } = harness([{ name: "n1", cpu: 2, ramGiB: 8, ports: [100, 101] }]);
  addJob(state, "web", "requirements = { cpu = 1.5 ram = 1G } replicas = 2 args = ['%port%']");
  const result = await applyPlan(
    ctx,
    plan([
      { taskId: "0.web.u.c", incarnation: 0, node: "n1", ports: [100] },
      { taskId: "1.web.u.c", incarnation: 0, node: "n1", ports: [101] },
      { taskId: "9.web.u.c", incarnation: 0, node: "n1", ports: [] },
    ]),
  );
  t.is(result.committed, 1);
  t.deepEqual(result.rejected, [
    { taskId: "1.web.u.c", reason: "insufficient cpu on n1", code: "insufficient_cpu" },
    { taskId: "9.web.u.c", reason: "no such task", code: "stale" },
  ]);
  t.is(recorded.length, 1, "one commit for the plan");
  t.deepEqual(recorded[0]!.granted.get("n1")?.map((lease) => lease.taskId), ["0.web.u.c"]);
});

test("the leader enforces the job's rules on the whole cell, whatever the scheduler saw", async (t) => {
  const { ctx, state } = harness([
    { name: "a1", cpu: 8, ramGiB: 8, ports: [100, 110], attributes: { rack: "a", arch: "arm64" } },
    { name: "b1", cpu: 8, ramGiB: 8, ports: [100, 110], attributes: { rack: "b", arch: "x86_64" } },
  ]);
  addJob(state, "spread", "requirements = { cpu = 0.1 ram = 1M } replicas = 3 spread = { across = 'rack' max_skew = 1 }");
  addJob(state, "x86", "requirements = { cpu = 0.1 ram = 1M } replicas = 1 constraints = [ { attribute = 'arch' op = '==' value = 'x86_64' } ]");
  const result = await applyPlan(
    ctx,
    plan([
      { taskId: "0.spread.u.c", incarnation: 0, node: "a1", ports: [] },
      { taskId: "1.spread.u.c", incarnation: 0, node: "a1", ports: [] },
      { taskId: "0.x86.u.c", incarnation: 0, node: "a1", ports: [] },
    ]),
  );
  t.is(result.committed, 1);
  t.regex(result.rejected[0]!.reason, /spread across racks/);
  t.regex(result.rejected[1]!.reason, /constraint arch == x86_64 not met on a1/);
  t.deepEqual(result.rejected.map((rejection) => rejection.code), ["spread", "constraint_not_met"], "the scheduler's refusal codes");
});

test("max_per_machine is counted exactly at plan apply: the plan's own placements once each, the machine's earlier ones too", async (t) => {
  const { ctx, state } = harness([{ name: "n1", cpu: 8, ramGiB: 8, ports: [100, 101] }]);
  addJob(state, "two", "requirements = { cpu = 0.1 ram = 1M } replicas = 4 max_per_machine = 2");
  addJob(state, "other", "requirements = { cpu = 0.1 ram = 1M } replicas = 1");
  const first = await applyPlan(
    ctx,
    plan([
      { taskId: "0.other.u.c", incarnation: 0, node: "n1", ports: [] },
      { taskId: "0.two.u.c", incarnation: 0, node: "n1", ports: [] },
      { taskId: "1.two.u.c", incarnation: 0, node: "n1", ports: [] },
      { taskId: "2.two.u.c", incarnation: 0, node: "n1", ports: [] },
    ]),
  );
  t.is(first.committed, 3, "another job's task, then two of the job's");
  t.deepEqual(first.rejected.map((rejection) => [rejection.taskId, rejection.code]), [["2.two.u.c", "max_per_machine"]]);
  const second = await applyPlan(ctx, plan([{ taskId: "3.two.u.c", incarnation: 0, node: "n1", ports: [] }]));
  t.is(second.committed, 0, "the two placed before count in a new plan");
});

test("property: after any sequence of plans, good or bad, no machine is over capacity, no port is given twice, every rule holds", async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ cpu: fc.integer({ min: 1, max: 4 }), ports: fc.integer({ min: 0, max: 3 }), arm: fc.boolean() }), { minLength: 1, maxLength: 4 }),
      fc.array(fc.record({ replicas: fc.integer({ min: 1, max: 4 }), cpu: fc.constantFrom(0.5, 1, 2), ports: fc.integer({ min: 0, max: 2 }), arm: fc.boolean(), perMachine: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined }) }), { minLength: 1, maxLength: 3 }),
      fc.array(
        fc.array(fc.record({ job: fc.nat(), index: fc.nat(4), node: fc.nat(4), ports: fc.array(fc.integer({ min: 99, max: 104 }), { maxLength: 3 }), incarnation: fc.constantFrom(0, 0, 0, 1) }), { maxLength: 6 }),
        { minLength: 1, maxLength: 4 },
      ),
      async (nodeSpecs, jobSpecs, plans) => {
        const { ctx, state } = harness(nodeSpecs.map((n, i) => ({ name: `n${i}`, cpu: n.cpu, ramGiB: 8, ports: [100, 100 + n.ports - 1] as [number, number], attributes: { arch: n.arm ? "arm64" : "x86_64" } })));
        const jobs = jobSpecs.map((j, i) =>
          addJob(
            state,
            `j${i}`,
            `requirements = { cpu = ${j.cpu} ram = 1M ports = ${j.ports} } replicas = ${j.replicas}` +
              (j.arm ? " constraints = [ { attribute = 'arch' op = '==' value = 'arm64' } ]" : "") +
              (j.perMachine === undefined ? "" : ` max_per_machine = ${j.perMachine}`),
          ),
        );
        for (const placements of plans) {
          await applyPlan(
            ctx,
            plan(placements.map((p) => ({ taskId: `${p.index}.${jobs[p.job % jobs.length]!.id}`, incarnation: p.incarnation, node: `n${p.node}`, ports: p.ports }))),
          );
        }
        for (const node of state.nodes.values()) {
          const placed = state.tasksOn(node.name);
          const cpu = placed.reduce((sum, ref) => sum + ref.job.spec.requirements.cpu, 0);
          if (cpu > node.capacity.cpu + 1e-9) return false;
          const ports = placed.flatMap((ref) => ref.task.lifecycle.context.ports);
          if (new Set(ports).size !== ports.length) return false;
          if (ports.some((port) => port < node.portRange[0] || port > node.portRange[1])) return false;
          for (const ref of placed) {
            if (ref.task.lifecycle.context.ports.length !== ref.job.spec.requirements.ports) return false;
            if (!ref.job.spec.constraints.every((c) => constraintMatches(c, node.attributes))) return false;
            const limit = ref.job.spec.maxPerMachine;
            if (limit !== undefined && placed.filter((other) => other.job.id === ref.job.id).length > limit) return false;
          }
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
  t.pass("checked by fast-check");
});

test("the leader's spread check also counts only the domains the job may use", async (t) => {
  const { ctx, state } = harness([
    { name: "a1", cpu: 8, ramGiB: 8, ports: [100, 110], attributes: { rack: "a" } },
    { name: "b1", cpu: 8, ramGiB: 8, ports: [100, 110], attributes: { rack: "b" } },
    { name: "c1", cpu: 8, ramGiB: 8, ports: [100, 110], attributes: { rack: "c" } },
  ]);
  addJob(state, "picky", "requirements = { cpu = 0.1 ram = 1M } replicas = 4 spread = { across = 'rack' max_skew = 1 } constraints = [ { attribute = 'rack' op = '!=' value = 'c' } ]");
  const result = await applyPlan(
    ctx,
    plan([0, 1, 2, 3].map((index) => ({ taskId: `${index}.picky.u.c`, incarnation: 0, node: index % 2 === 0 ? "a1" : "b1", ports: [] }))),
  );
  t.deepEqual(result.rejected, []);
  t.is(result.committed, 4, "two per allowed rack; rack c, which it may not use, holds nothing back");
});

test("preemption: only when no machine takes the task as it is; then the fewest lower-band victims, never production", async (t) => {
  const { ctx, state, recorded } = harness([
    { name: "busy", cpu: 2, ramGiB: 8, ports: [100, 101] },
    { name: "free", cpu: 2, ramGiB: 8, ports: [100, 101] },
  ]);
  const batchJob = addJob(state, "batchy", "priority = 'batch' requirements = { cpu = 1 ram = 1M } replicas = 2");
  const prodJob = addJob(state, "prod", "priority = 'production' requirements = { cpu = 2 ram = 1M } replicas = 2");
  await applyPlan(ctx, plan(batchJob.tasks.map((task) => ({ taskId: `${task.index}.batchy.u.c`, incarnation: 0, node: "busy", ports: [] }))));
  const sample = await applyPlan(ctx, plan([], { unplaced: ["0.prod.u.c"] }));
  t.is(sample.preempted, 0, "the scheduler's sample missed a free machine: nothing is stopped");

  await applyPlan(ctx, plan([{ taskId: "1.prod.u.c", incarnation: 0, node: "free", ports: [] }]));
  ctx.lastPreemptionAt = 0; // preemption passes are at most one a second
  const needed = await applyPlan(ctx, plan([], { unplaced: ["0.prod.u.c"] }));
  t.is(needed.preempted, 2, "both 1-core batch tasks make room for 2 cores");
  const victims = state.tasksOn("busy").map((ref) => ref.task.lifecycle);
  t.true(victims.every((lifecycle) => lifecycle.state === "terminating" && lifecycle.context.reason === "preempted by 0.prod.u.c"));
  t.deepEqual(recorded[recorded.length - 1]!.revoked.get("busy")?.map((revocation) => revocation.reason), ["preempted by 0.prod.u.c", "preempted by 0.prod.u.c"]);
  t.is((await applyPlan(ctx, plan([], { unplaced: ["0.prod.u.c"] }))).preempted, 0, "and not twice within a second");
  ctx.lastPreemptionAt = 0;
  t.is((await applyPlan(ctx, plan([], { unplaced: ["0.prod.u.c"] }))).preempted, 0, "a preemptor whose victims are stopping does not preempt again");
  t.is(prodJob.tasks[1]!.lifecycle.state, "assigned", "production is never a victim");
});
