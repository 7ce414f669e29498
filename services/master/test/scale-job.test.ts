import test from "ava";
import { CorralError, jobSpecSchema, type Plan } from "@corral/contracts";
import { encodeJobHead, encodeTaskRecord, jobFields, type JobRecord } from "@corral/state";
import { checkAdmission } from "../src/jobs/admit-job.js";
import type { CellState } from "../src/state/cell-state.js";
import { applyPlan } from "../src/scheduling/scheduling-handlers.js";
import { scaleJobTo } from "../src/jobs/scale-job.js";
import { applyStoredChanges, stateOfRecords } from "../src/state/stored-fields.js";
import { jobView } from "../src/jobs/views.js";
import { addSpec, GIB, harness } from "./support/leader-harness.js";

const ID = "web.u.c";
const plan = (placements: Plan["placements"]): Plan => ({ scheduler: "s", epoch: 7, placements });

/** Two 4-cpu machines and a job `web` of `replicas` 1-cpu tasks with a 5 s grace period, every task running (task i on n(i%2+1)). */
async function runningJob(replicas: number) {
  const h = harness([
    { name: "n1", cpu: 4, ramGiB: 8, ports: [100, 110] },
    { name: "n2", cpu: 4, ramGiB: 8, ports: [100, 110] },
  ]);
  const job = addSpec(h.state, { name: "web", replicas, gracePeriodMs: 5000, requirements: { cpu: 1, ram: GIB, disk: 0, ports: 0 } });
  await placeAndStart(h.ctx, h.state, job);
  h.recorded.length = 0;
  return { ...h, job };
}

/** Places every pending task of the job as a scheduler would (task i on n(i%2+1)) and starts it with pid 1000+i. */
async function placeAndStart(ctx: Parameters<typeof applyPlan>[0], state: CellState, job: JobRecord) {
  const pending = job.tasks.filter((task) => task.lifecycle.state === "pending");
  const result = await applyPlan(ctx, plan(pending.map((task) => ({ taskId: `${task.index}.${job.id}`, incarnation: task.lifecycle.context.incarnation, node: `n${(task.index % 2) + 1}`, ports: [] }))));
  if (result.committed !== pending.length) throw new Error(`plan rejected: ${JSON.stringify(result.rejected)}`);
  for (const task of pending) state.transition(state.task(`${task.index}.${job.id}`)!, { type: "STARTED", pid: 1000 + task.index });
}

const states = (job: JobRecord) => job.tasks.map((task) => task.lifecycle.state);
const pendingIds = (state: CellState) => state.pendingTasks().map((ref) => ref.id).sort();
const cpuUsed = (state: CellState) => state.usage("n1").cpu + state.usage("n2").cpu;
const historyTexts = (published: { data: string }[]) => published.map((message) => (JSON.parse(message.data) as { entries: { text: string }[] }).entries.map((entry) => entry.text)).flat();

test("scale up: tasks R..N-1 start pending and get scheduled; the running tasks are not touched", async (t) => {
  const { ctx, state, recorded, published, job } = await runningJob(2);
  const before = job.tasks.map((task) => task.lifecycle);
  const scaled = await scaleJobTo(ctx, ID, 4);
  t.is(scaled, job);
  t.is(job.spec.replicas, 4);
  t.deepEqual(states(job), ["running", "running", "pending", "pending"]);
  t.is(job.tasks[0]!.lifecycle, before[0]!, "task 0 is the very same lifecycle");
  t.is(job.tasks[1]!.lifecycle, before[1]!);
  t.deepEqual(pendingIds(state), ["2.web.u.c", "3.web.u.c"], "the schedulers see the new tasks");
  t.is(recorded.length, 1, "committed before answering");
  t.false(recorded[0]!.isEmpty, "the schedulers are woken");
  t.is(recorded[0]!.revoked.size, 0);
  t.deepEqual(historyTexts(published), ["scaled from 2 to 4 replicas"]);
  t.is(jobView(job, state).replicas, 4);

  await placeAndStart(ctx, state, job);
  t.deepEqual(states(job), ["running", "running", "running", "running"]);
  t.is(cpuUsed(state), 4);
  t.deepEqual(pendingIds(state), []);
});

test("scale down: tasks N and above stop as a kill stops them, with the reason and the job's grace; tasks below N are not touched", async (t) => {
  const { ctx, state, recorded, published, job } = await runningJob(4);
  const task0 = job.tasks[0]!.lifecycle;
  await scaleJobTo(ctx, ID, 1);
  t.is(job.spec.replicas, 1);
  t.deepEqual(states(job), ["running", "terminating", "terminating", "terminating"]);
  t.is(job.tasks[0]!.lifecycle, task0, "task 0 keeps its run");
  const revoked = [...recorded[0]!.revoked.entries()].map(([node, list]) => [node, list.map((r) => `${r.taskId} ${r.gracePeriodMs} ${r.reason}`)]);
  t.deepEqual(revoked.sort(), [
    ["n1", ["2.web.u.c 5000 scaled down to 1 replica"]],
    ["n2", ["1.web.u.c 5000 scaled down to 1 replica", "3.web.u.c 5000 scaled down to 1 replica"]],
  ]);
  t.is(recorded[0]!.granted.size, 0);
  t.deepEqual(historyTexts(published), ["scaled from 4 to 1 replicas"]);
  t.is(cpuUsed(state), 4, "stopping tasks still hold their room");

  for (const index of [1, 2, 3]) state.transition(state.task(`${index}.${ID}`)!, { type: "EXITED", signal: "SIGTERM" });
  t.deepEqual(states(job), ["running", "dead", "dead", "dead"]);
  t.is(cpuUsed(state), 1, "dead tasks free their machines");
  t.is(state.placedCount("n2"), 0);
  const view = jobView(job, state);
  t.is(view.replicas, 1);
  t.deepEqual(view.tasks.map((task) => task.reason), [undefined, ...Array(3).fill("scaled down to 1 replica (terminated by SIGTERM)")]);
  t.deepEqual(view.summary.dead, 3, "they stay in the job as dead tasks");
});

test("scale down of pending tasks ends them at once: nothing to revoke", async (t) => {
  const { ctx, state, recorded } = harness([{ name: "n1", cpu: 1, ramGiB: 8, ports: [100, 110] }]);
  const job = addSpec(state, { name: "web", replicas: 3 });
  await scaleJobTo(ctx, ID, 1);
  t.deepEqual(states(job), ["pending", "dead", "dead"]);
  t.deepEqual(pendingIds(state), ["0.web.u.c"]);
  t.is(recorded[0]!.revoked.size, 0);
});

test("scaling to the current count changes nothing and answers the job: a repeat is safe", async (t) => {
  const { ctx, state, recorded, published, job } = await runningJob(3);
  await scaleJobTo(ctx, ID, 2);
  const after = structuredClone(job);
  const usage = cpuUsed(state);
  recorded.length = 0;
  published.length = 0;
  for (let repeat = 0; repeat < 3; repeat++) t.is(await scaleJobTo(ctx, ID, 2), job);
  t.deepEqual(job, after);
  t.is(cpuUsed(state), usage);
  t.is(recorded.length, 3, "each repeat waits for the commits in flight");
  t.true(recorded.every((batch) => batch.isEmpty), "and sends nothing");
  t.deepEqual(published, [], "no history for a no-op");
});

test("scaling up again after a scale down replaces the dead tasks with fresh ones at the same indexes", async (t) => {
  const { ctx, state, job } = await runningJob(3);
  await scaleJobTo(ctx, ID, 1);
  for (const index of [1, 2]) state.transition(state.task(`${index}.${ID}`)!, { type: "EXITED", signal: "SIGTERM" });
  const dead = job.tasks.map((task) => task.lifecycle.context.incarnation);
  await scaleJobTo(ctx, ID, 3);
  t.is(job.tasks.length, 3, "no task added past the old ones");
  t.deepEqual(states(job), ["running", "pending", "pending"]);
  for (const index of [1, 2]) {
    const { context } = job.tasks[index]!.lifecycle;
    t.is(job.tasks[index]!.index, index);
    t.is(context.reason, undefined, "a fresh lifecycle: no reason");
    t.is(context.restarts, 0);
    t.is(context.node, undefined);
    t.true(context.incarnation > dead[index]!, "a later incarnation than the dead run it replaces");
  }
  t.deepEqual(pendingIds(state), ["1.web.u.c", "2.web.u.c"]);
  await placeAndStart(ctx, state, job);
  t.deepEqual(states(job), ["running", "running", "running"]);
  t.is(cpuUsed(state), 3);
  // Up past the old tasks: reuses 1 and 2 (dead again), appends 3.
  await scaleJobTo(ctx, ID, 1);
  for (const index of [1, 2]) state.transition(state.task(`${index}.${ID}`)!, { type: "EXITED", signal: "SIGTERM" });
  await scaleJobTo(ctx, ID, 4);
  t.deepEqual(states(job), ["running", "pending", "pending", "pending"]);
  t.deepEqual(job.tasks.map((task) => task.index), [0, 1, 2, 3]);
  t.is(state.task(`3.${ID}`)?.task, job.tasks[3], "the appended task is found by its id");
});

test("scaling up over a task still stopping from a scale down is refused, naming it; nothing changes", async (t) => {
  const { ctx, state, recorded, job } = await runningJob(3);
  await scaleJobTo(ctx, ID, 1);
  state.transition(state.task(`2.${ID}`)!, { type: "EXITED", signal: "SIGTERM" });
  recorded.length = 0;
  const error = await t.throwsAsync(scaleJobTo(ctx, ID, 3));
  t.true(error instanceof CorralError);
  t.is((error as CorralError).code, "conflict");
  t.regex(error!.message, /task 1\.web\.u\.c is still terminating after an earlier scale down; retry once it has stopped/);
  t.is(job.spec.replicas, 1);
  t.deepEqual(states(job), ["running", "terminating", "dead"], "task 2 not revived either");
  t.is(recorded.length, 0);
  await scaleJobTo(ctx, ID, 2).then(
    () => t.fail("task 1 is still stopping"),
    (refused: CorralError) => t.is(refused.code, "conflict"),
  );
  t.is(await scaleJobTo(ctx, ID, 1), job, "a repeat of the scale down is still fine");
  state.transition(state.task(`1.${ID}`)!, { type: "EXITED", signal: "SIGTERM" });
  await scaleJobTo(ctx, ID, 3);
  t.deepEqual(states(job), ["running", "pending", "pending"]);
});

test("scaling down further while tasks stop does not stop them twice", async (t) => {
  const { ctx, recorded, job } = await runningJob(4);
  await scaleJobTo(ctx, ID, 3);
  recorded.length = 0;
  await scaleJobTo(ctx, ID, 1);
  const revoked = [...recorded[0]!.revoked.values()].flat().map((r) => r.taskId).sort();
  t.deepEqual(revoked, ["1.web.u.c", "2.web.u.c"], "task 3 was revoked by the first scale down");
  t.is(job.tasks[3]!.lifecycle.context.reason, "scaled down to 3 replicas");
});

test("scaling up checks quota as a submission does, with the new replica count", async (t) => {
  const { ctx, state, recorded, job } = await runningJob(2);
  ctx.quota = { defaults: { production: { cpu: 3, ram: 100 * GIB, disk: Infinity } }, users: {} };
  addSpec(state, { name: "other", replicas: 1, requirements: { cpu: 0.5, ram: GIB, disk: 0, ports: 0 } });
  const error = await t.throwsAsync(scaleJobTo(ctx, ID, 3));
  t.is((error as CorralError).code, "quota_exceeded");
  t.is((error as CorralError).field, "replicas");
  t.regex(error!.message, /job web would take u past the production quota: cpu 3\.5 cores of 3 cores \(0\.5 cores over\)/);
  t.is(job.spec.replicas, 2);
  t.is(job.tasks.length, 2);
  t.is(recorded.length, 0);
  state.jobs.get("other.u.c")!.killed = true;
  await scaleJobTo(ctx, ID, 3);
  t.is(job.spec.replicas, 3);
  // Scaling down needs no quota, even when the user is over it (the quota shrank).
  ctx.quota = { defaults: { production: { cpu: 1, ram: 100 * GIB, disk: Infinity } }, users: {} };
  await scaleJobTo(ctx, ID, 2);
  t.is(job.spec.replicas, 2);
});

test("refusals: unknown job, killed job, alloc set", async (t) => {
  const { ctx, state } = harness([{ name: "n1", cpu: 4, ramGiB: 8, ports: [100, 110] }]);
  const unknown = await t.throwsAsync(scaleJobTo(ctx, "nope.u.c", 2));
  t.is((unknown as CorralError).code, "not_found");

  const killed = addSpec(state, { name: "web", replicas: 2 });
  killed.killed = true;
  const conflict = await t.throwsAsync(scaleJobTo(ctx, ID, 3));
  t.is((conflict as CorralError).code, "conflict");
  t.regex(conflict!.message, /was killed; submit it again/);
  t.is(killed.spec.replicas, 2);

  addSpec(state, { name: "slots", kind: "alloc", binary: "", replicas: 2 });
  const alloc = await t.throwsAsync(scaleJobTo(ctx, "slots.u.c", 3));
  t.is((alloc as CorralError).code, "bad_request");
  t.regex(alloc!.message, /alloc set.*submit the alloc set again/);
});

test("a standby that follows the committed records has the scaled job, indexed as the leader has it", async (t) => {
  const { ctx, state, job } = await runningJob(3);
  const follower = stateOfRecords(new Map(jobFields(job)));
  state.takeDirtyJobs();
  state.takeDirtyTasks();
  // What each commit of the leader writes: the heads and the tasks that changed.
  const follow = () =>
    applyStoredChanges(follower, [
      ...state.takeDirtyJobs().map((changed) => [changed.id, encodeJobHead(changed)] as const),
      ...state.takeDirtyTasks().map((ref) => encodeTaskRecord(ref.job, ref.task.index)),
    ]);
  const same = (what: string) => {
    t.deepEqual(pendingIds(follower), pendingIds(state), `pending tasks ${what}`);
    for (const node of ["n1", "n2"]) t.deepEqual(follower.usage(node), state.usage(node), `usage of ${node} ${what}`);
    t.is(follower.jobs.get(ID)!.spec.replicas, job.spec.replicas);
  };
  await scaleJobTo(ctx, ID, 1);
  follow();
  same("after the scale down");
  for (const index of [1, 2]) state.transition(state.task(`${index}.${ID}`)!, { type: "EXITED", signal: "SIGTERM" });
  follow();
  same("once the stopped tasks are dead");
  await scaleJobTo(ctx, ID, 4);
  follow();
  same("after the scale up");
  t.is(follower.pendingCount, 3);
});

test("a federated job (runtime.cells) is refused by a cell's master: it goes through a gateway", (t) => {
  const { ctx } = harness([]);
  const spec = jobSpecSchema.parse({ name: "fed", kind: "job", runtime: { cells: ["east", "west"] }, binary: "x", args: [], env: {}, requirements: { cpu: 1, ram: GIB, disk: 0, ports: 0 }, replicas: 2, priority: "production", restart: "always", gracePeriodMs: 0 });
  const error = t.throws(() => checkAdmission(ctx, spec, "u"));
  t.is((error as CorralError).code, "bad_request");
  t.is((error as CorralError).field, "runtime.cells");
  t.regex(error!.message, /through a gateway that federates those cells/);
});

test("per-user limits: a new job past the user's job count, and tasks past their pending count, are refused; other users are not held back", async (t) => {
  const { ctx, state, job } = await runningJob(2);
  ctx.userLimits = { jobs: 3, pendingTasks: 4 };
  addSpec(state, { name: "waiting", replicas: 3 });
  const spec = (name: string, replicas: number, user?: string) => jobSpecSchema.parse({ kind: "job", name, runtime: {}, binary: "x", args: [], env: {}, requirements: { cpu: 1, ram: GIB, disk: 0, ports: 0 }, replicas, priority: "production", restart: "always", gracePeriodMs: 0, ...(user === undefined ? {} : { user }) });
  // u has web (running) and waiting (3 pending): one more job fits, with at most one more pending task.
  const tooMany = (() => {
    try {
      checkAdmission(ctx, spec("third", 2), "u");
      return undefined;
    } catch (error) {
      return error as CorralError;
    }
  })();
  t.is(tooMany?.code, "quota_exceeded");
  t.is(tooMany?.field, "replicas");
  t.regex(tooMany?.message ?? "", /u has 3 pending tasks in cell c and this would add 2, past the most one user may have waiting \(--max-pending-tasks-per-user 4\)/);
  t.is(checkAdmission(ctx, spec("third", 1), "u"), "third.u.c");
  addSpec(state, { name: "third", replicas: 1 });
  const jobs = t.throws(() => checkAdmission(ctx, spec("fourth", 1), "u")) as CorralError;
  t.is(jobs.field, "name");
  t.regex(jobs.message, /u has 3 jobs in cell c, the most one user may have \(--max-jobs-per-user 3\)/);
  t.is(checkAdmission(ctx, spec("fourth", 1, "v"), "v"), "fourth.v.c", "another user has room of their own");
  // A scale up counts only the tasks it adds; an existing job is no new job.
  ctx.userLimits = { jobs: 3, pendingTasks: 5 };
  await scaleJobTo(ctx, job.id, 3);
  t.is(job.spec.replicas, 3);
});
