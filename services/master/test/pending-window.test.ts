import test from "ava";
import fc from "fast-check";
import { PRIORITY_BANDS } from "@corral/contracts";
import { parseJobSpec } from "@corral/spec";
import { CellState } from "../src/state/cell-state.js";
import { jobRecord } from "./support/leader-harness.js";

function job(name: string, user: string, priority: string, replicas: number) {
  return jobRecord(parseJobSpec(`job: ${name}\nbinary: x\nreplicas: ${replicas}\npriority: ${priority}\nrequirements: { cpu: 0.1, ram: 1M }\n`, { file: "j.yaml" }), user);
}

test("the window: higher bands first, users take turns, each user's tasks in the order they became pending, cut at the limit", (t) => {
  const state = new CellState();
  state.addJob(job("a", "alice", "batch", 3));
  state.addJob(job("b", "bob", "batch", 1));
  state.addJob(job("m", "mallory", "production", 2));
  const ids = (limit: number) => state.pendingWindow(limit, 10).map((ref) => ref.id);
  t.deepEqual(ids(10), ["0.m.mallory.local", "1.m.mallory.local", "0.a.alice.local", "0.b.bob.local", "1.a.alice.local", "2.a.alice.local"]);
  t.deepEqual(ids(3), ["0.m.mallory.local", "1.m.mallory.local", "0.a.alice.local"]);
  // Placed, it leaves the queue; lost, it joins the end of its user's turn.
  const first = state.task("0.a.alice.local")!;
  state.transition(first, { type: "SCHEDULE", node: "n1", ports: [] });
  t.deepEqual(ids(10).slice(2), ["1.a.alice.local", "0.b.bob.local", "2.a.alice.local"]);
  state.transition(first, { type: "LOST", reason: "machine lost", cause: "machine_lost" });
  t.deepEqual(ids(10).slice(2), ["1.a.alice.local", "0.b.bob.local", "2.a.alice.local", "0.a.alice.local"]);
});

test("a task waiting out its restart backoff is left out until it is due", (t) => {
  const state = new CellState();
  const web = job("w", "alice", "batch", 2);
  state.addJob(web);
  const crashing = state.task("0.w.alice.local")!;
  // The first crash restarts at once; the ones after it wait, longer each time.
  for (let crash = 0; crash < 3; crash++) {
    state.transition(crashing, { type: "SCHEDULE", node: "n1", ports: [] }, 1000);
    state.transition(crashing, { type: "STARTED", pid: 1 }, 1000);
    state.transition(crashing, { type: "EXITED", exitCode: 1, ranForMs: 10 }, 1000);
  }
  t.is(crashing.task.lifecycle.state, "pending");
  t.deepEqual(state.pendingWindow(10, 1000).map((ref) => ref.id), ["1.w.alice.local"]);
  t.deepEqual(state.pendingWindow(10, 1000 + 3_600_000).map((ref) => ref.id), ["1.w.alice.local", "0.w.alice.local"]);
});

/** The queue's rules, checked on any window: what a scheduler may rely on. */
test("any mix of jobs and placements: the window holds the first eligible tasks by band, fair among users, FIFO per user", (t) => {
  const jobArb = fc.record({ user: fc.constantFrom("u1", "u2", "u3"), band: fc.constantFrom(...PRIORITY_BANDS), replicas: fc.integer({ min: 1, max: 4 }) });
  fc.assert(
    fc.property(fc.array(jobArb, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), fc.integer({ min: 1, max: 20 }), (jobs, placements, limit) => {
      const state = new CellState();
      jobs.forEach((spec, index) => state.addJob(job(`j${index}`, spec.user, spec.band, spec.replicas)));
      for (const pick of placements) {
        const pending = state.pendingTasks();
        if (pending.length > 0) state.transition(pending[pick % pending.length]!, { type: "SCHEDULE", node: "n", ports: [] });
      }
      const all = state.pendingTasks();
      const window = state.pendingWindow(limit, 0);
      if (window.length !== Math.min(limit, all.length)) return false;
      if (new Set(window.map((ref) => ref.id)).size !== window.length) return false;
      const rank = (band: string) => PRIORITY_BANDS.indexOf(band as (typeof PRIORITY_BANDS)[number]);
      // bands in order, and a band is only reached once every higher one is in the window whole
      for (let i = 1; i < window.length; i++) if (rank(window[i]!.job.spec.priority) < rank(window[i - 1]!.job.spec.priority)) return false;
      const lastBand = window.length === 0 ? -1 : rank(window.at(-1)!.job.spec.priority);
      const inWindow = new Set(window.map((ref) => ref.id));
      if (all.filter((ref) => rank(ref.job.spec.priority) < lastBand).some((ref) => !inWindow.has(ref.id))) return false;
      // each user's tasks in the order they became pending (the pending set's order)
      for (const user of ["u1", "u2", "u3"]) {
        for (const band of PRIORITY_BANDS) {
          const mine = all.filter((ref) => ref.job.user === user && ref.job.spec.priority === band).map((ref) => ref.id);
          const shown = window.filter((ref) => ref.job.user === user && ref.job.spec.priority === band).map((ref) => ref.id);
          if (JSON.stringify(mine.slice(0, shown.length)) !== JSON.stringify(shown)) return false;
        }
      }
      // fair: within the last band, users with tasks left got at most one fewer than anyone
      const inLast = window.filter((ref) => rank(ref.job.spec.priority) === lastBand);
      const taken = new Map<string, number>();
      for (const ref of inLast) taken.set(ref.job.user, (taken.get(ref.job.user) ?? 0) + 1);
      const most = Math.max(0, ...taken.values());
      for (const user of ["u1", "u2", "u3"]) {
        const left = all.filter((ref) => ref.job.user === user && rank(ref.job.spec.priority) === lastBand).length - (taken.get(user) ?? 0);
        if (left > 0 && (taken.get(user) ?? 0) < most - 1) return false;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass();
});
