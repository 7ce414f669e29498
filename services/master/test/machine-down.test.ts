import test from "ava";
import type { TaskEvent } from "@corral/contracts";
import { CommandBatch } from "../src/leader/commands.js";
import { finishedAfterLoss, sweepSilentMachines } from "../src/heartbeats/node-handlers.js";
import { addJob, harness } from "./support/leader-harness.js";

const nodes = (count: number) => Array.from({ length: count }, (_, i) => ({ name: `n${i}`, cpu: 4, ramGiB: 8, ports: [100, 199] as [number, number] }));

test("a machine is down only after down-after and three of its own heartbeat periods of silence", (t) => {
  const { ctx, state } = harness(nodes(2));
  const now = Date.now();
  state.nodes.get("n0")!.heartbeatMs = 2000; // three periods: 6 s, past down-after (5 s)
  for (const node of state.nodes.values()) node.lastHeartbeat = now - 5500;
  sweepSilentMachines(ctx, now);
  t.is(state.nodes.get("n0")!.state, "up", "5.5 s: under three of its 2 s heartbeats");
  t.is(state.nodes.get("n1")!.state, "down", "5.5 s with no period known: down-after alone");
  sweepSilentMachines(ctx, now + 600);
  t.is(state.nodes.get("n0")!.state, "up", "a sweep looks at the machines only every quarter of down-after (1.25 s)");
  sweepSilentMachines(ctx, now + 1300);
  t.is(state.nodes.get("n0")!.state, "down", "6.8 s: three heartbeats missed");
});

test("time the leader itself was stalled is not counted as the machines' silence", (t) => {
  const { ctx, state } = harness(nodes(1));
  const start = Date.now();
  state.nodes.get("n0")!.lastHeartbeat = start;
  sweepSilentMachines(ctx, start);
  // The leader's loop was held for 5 s: its next sweep runs 5.5 s later, heartbeats unread in its socket.
  sweepSilentMachines(ctx, start + 5500);
  t.is(state.nodes.get("n0")!.state, "up");
  // Sweeps on time again: the machine's silence counts from here.
  let at = start + 5500;
  while (state.nodes.get("n0")!.state === "up" && at < start + 60_000) sweepSilentMachines(ctx, (at += 500));
  t.true(at - (start + 5500) >= 4500, `down ${at - (start + 5500)} ms after the stall, not at once`);
});

test("one sweep marks at most a tenth of the machines down, the longest silent first", (t) => {
  const { ctx, state, recorded } = harness(nodes(20));
  addJob(state, "web", "requirements = { ram = 10M cpu = 0.1 } replicas = 1");
  const now = Date.now();
  [...state.nodes.values()].forEach((node, i) => (node.lastHeartbeat = now - 10_000 - i * 100));
  sweepSilentMachines(ctx, now);
  const down = () => [...state.nodes.values()].filter((node) => node.state === "down").map((node) => node.name);
  t.deepEqual(down(), ["n18", "n19"]);
  sweepSilentMachines(ctx, now + 1300);
  t.is(down().length, 4);
  t.true(recorded.length <= 2, "a commit per sweep at most");
});

/** Task 0 of a batch job ran on n0 as incarnation 0 until n0 was marked down; it is pending as incarnation 1. */
function lostBatchTask(restart: "never" | "always") {
  const h = harness(nodes(2));
  const job = addJob(h.state, "batch", `requirements = { ram = 10M cpu = 0.1 } replicas = 1 restart = '${restart}'`);
  const ref = h.state.task(`0.${job.id}`)!;
  h.state.transition(ref, { type: "SCHEDULE", node: "n0", ports: [] });
  h.state.transition(ref, { type: "STARTED", pid: 42 });
  h.state.nodes.get("n0")!.lastHeartbeat = Date.now() - 60_000;
  sweepSilentMachines(h.ctx);
  return { ...h, ref };
}

const exitOfFirstRun = (taskId: string, fields: Partial<TaskEvent & { kind: "exited" }> = {}): TaskEvent & { kind: "exited" } => ({ kind: "exited", taskId, incarnation: 0, revoked: false, exitCode: 0, at: Date.now(), ...fields });

test("an exit 0 reported after the machine was marked down finishes a batch task still pending: it does not run twice", (t) => {
  const { ctx, ref } = lostBatchTask("never");
  t.is(ref.task.lifecycle.state, "pending");
  t.is(ref.task.lifecycle.context.incarnation, 1);
  const batch = new CommandBatch();
  t.true(finishedAfterLoss(ctx, ref, exitOfFirstRun(ref.id), "n0", batch));
  t.is(ref.task.lifecycle.state, "dead");
  t.is(ref.task.lifecycle.context.exitCode, 0);
  t.is(ctx.state.pendingCount, 0);
});

test("placed again but not started: finished, and the new lease revoked", (t) => {
  const { ctx, state, ref } = lostBatchTask("never");
  state.transition(ref, { type: "SCHEDULE", node: "n1", ports: [] });
  const batch = new CommandBatch();
  t.true(finishedAfterLoss(ctx, ref, exitOfFirstRun(ref.id), "n0", batch));
  t.is(ref.task.lifecycle.state, "dead");
  t.is(state.placedCount("n1"), 0, "n1's room is free again");
  t.deepEqual(
    batch.revoked.get("n1")?.map((r) => [r.taskId, r.incarnation]),
    [[ref.id, 1]],
  );
});

test("late exits that prove nothing change nothing: a failure, a stop the borglet made, a service, a next run already started", (t) => {
  for (const [restart, fields] of [
    ["never", { exitCode: 1 }],
    ["never", { revoked: true }],
    ["never", { evicted: "memory pressure" }],
    ["always", {}],
  ] as const) {
    const { ctx, ref } = lostBatchTask(restart);
    t.false(finishedAfterLoss(ctx, ref, exitOfFirstRun(ref.id, fields), "n0", new CommandBatch()), `${restart} ${JSON.stringify(fields)}`);
    t.is(ref.task.lifecycle.state, "pending");
  }
  const { ctx, state, ref } = lostBatchTask("never");
  state.transition(ref, { type: "SCHEDULE", node: "n1", ports: [] });
  state.transition(ref, { type: "STARTED", pid: 43 });
  t.false(finishedAfterLoss(ctx, ref, exitOfFirstRun(ref.id), "n0", new CommandBatch()));
  t.is(ref.task.lifecycle.state, "running");
});
