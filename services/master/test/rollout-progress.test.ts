import test from "ava";
import { DEFAULT_UPDATE_POLICY, type Plan } from "@corral/contracts";
import type { JobRecord } from "@corral/state";
import { applyPlan } from "../src/scheduling/scheduling-handlers.js";
import { rolloutProgress } from "../src/jobs/rollouts.js";
import { addSpec, GIB, harness } from "./support/leader-harness.js";

const plan = (placements: Plan["placements"]): Plan => ({ scheduler: "s", epoch: 7, placements });

/** A job of four tasks: 0 and 1 running, 2 placed but not started, 3 pending. */
async function mixedJob() {
  const h = harness([{ name: "n1", cpu: 8, ramGiB: 8, ports: [100, 110] }]);
  const job: JobRecord = addSpec(h.state, { name: "web", replicas: 4, requirements: { cpu: 1, ram: GIB, disk: 0, ports: 0 } });
  await applyPlan(h.ctx, plan([0, 1, 2].map((index) => ({ taskId: `${index}.${job.id}`, incarnation: 0, node: "n1", ports: [] }))));
  for (const index of [0, 1]) h.state.transition(h.state.task(`${index}.${job.id}`)!, { type: "STARTED", pid: 100 + index });
  return { ...h, job };
}

test("a rollout counts only running tasks of its revision as done, even with a min_healthy_time of 0; placed and pending ones are in flight", async (t) => {
  const { job } = await mixedJob();
  // Every task is of revision 1; a rollout to revision 1 (as after a revert) has nothing behind.
  const progress = rolloutProgress(job, { revision: 1, from: 1, state: "running", startedAt: 0, progressAt: 0 }, { ...DEFAULT_UPDATE_POLICY, minHealthyTimeMs: 0 }, Date.now());
  t.is(progress.done, 2, "the two running tasks");
  t.deepEqual(progress.inFlight.map((task) => task.index), [2, 3], "placed but not started, and pending: not done, whatever min_healthy_time says");
  t.deepEqual(progress.behind, []);
  t.is(progress.total, 4);
});

test("tasks of an older revision are behind until replaced; running ones count as done only after min_healthy_time", async (t) => {
  const { job } = await mixedJob();
  const rollout = { revision: 2, from: 1, state: "running" as const, startedAt: 0, progressAt: 0 };
  const now = Date.now();
  const early = rolloutProgress(job, rollout, { ...DEFAULT_UPDATE_POLICY, minHealthyTimeMs: 60_000 }, now);
  t.deepEqual(early.behind.map((task) => task.index), [0, 1, 2], "placed from revision 1");
  t.deepEqual(early.inFlight.map((task) => task.index), [3], "a pending task is placed from the job's spec as it is now");
  for (const task of job.tasks) task.revision = 2;
  const later = rolloutProgress(job, rollout, { ...DEFAULT_UPDATE_POLICY, minHealthyTimeMs: 60_000 }, now + 61_000);
  t.is(later.done, 2);
  t.is(rolloutProgress(job, rollout, { ...DEFAULT_UPDATE_POLICY, minHealthyTimeMs: 60_000 }, now).done, 0, "not yet healthy long enough");
});
