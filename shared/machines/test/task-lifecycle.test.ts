import test from "ava";
import { applyTaskEvent, newTask, type TaskLifecycleState } from "../index.js";

function run(start: TaskLifecycleState, ...events: Parameters<typeof applyTaskEvent>[1][]): TaskLifecycleState {
  let current = start;
  for (const event of events) {
    const next = applyTaskEvent(current, event);
    if (next === undefined) throw new Error(`${event.type} does not apply in ${current.state}`);
    current = next;
  }
  return current;
}

test("a new task is pending at incarnation 0", (t) => {
  const task = newTask("always");
  t.is(task.state, "pending");
  t.is(task.context.incarnation, 0);
  t.deepEqual(task.context.ports, []);
});

test("schedule then start: assigned, then running with node, ports and pid", (t) => {
  const task = run(newTask("always"), { type: "SCHEDULE", node: "n1", ports: [20001] }, { type: "STARTED", pid: 42 });
  t.is(task.state, "running");
  t.is(task.context.node, "n1");
  t.deepEqual(task.context.ports, [20001]);
  t.is(task.context.pid, 42);
});

test("machine lost: back to pending, unplaced, next incarnation, reason kept", (t) => {
  const task = run(
    newTask("always"),
    { type: "SCHEDULE", node: "n1", ports: [1] },
    { type: "STARTED", pid: 7 },
    { type: "LOST", reason: "machine lost" },
  );
  t.is(task.state, "pending");
  t.is(task.context.node, undefined);
  t.is(task.context.pid, undefined);
  t.is(task.context.incarnation, 1);
  t.is(task.context.reason, "machine lost");
});

for (const [policy, exitCode, expected] of [
  ["always", 0, "pending"],
  ["always", 3, "pending"],
  ["on-failure", 0, "dead"],
  ["on-failure", 3, "pending"],
  ["never", 3, "dead"],
] as const) {
  test(`restart policy ${policy}, exit ${exitCode} → ${expected}`, (t) => {
    const task = run(
      newTask(policy),
      { type: "SCHEDULE", node: "n1", ports: [] },
      { type: "STARTED", pid: 7 },
      { type: "EXITED", exitCode },
    );
    t.is(task.state, expected);
    t.is(task.context.exitCode, exitCode);
    t.is(task.context.reason, `exited with code ${exitCode}`);
    t.is(task.context.restarts, expected === "pending" ? 1 : 0);
  });
}

test("a signal counts as failure for on-failure", (t) => {
  const task = run(newTask("on-failure"), { type: "SCHEDULE", node: "n", ports: [] }, { type: "EXITED", signal: "SIGSEGV" });
  t.is(task.state, "pending");
  t.is(task.context.reason, "terminated by SIGSEGV");
});

test("kill: pending goes straight to dead; running goes through terminating", (t) => {
  t.is(run(newTask("always"), { type: "KILL", reason: "killed by user" }).state, "dead");
  const terminating = run(
    newTask("always"),
    { type: "SCHEDULE", node: "n", ports: [] },
    { type: "STARTED", pid: 1 },
    { type: "KILL", reason: "killed by user" },
  );
  t.is(terminating.state, "terminating");
  const dead = run(terminating, { type: "EXITED", signal: "SIGTERM" });
  t.is(dead.state, "dead");
  t.is(dead.context.reason, "killed by user (terminated by SIGTERM)");
  t.is(dead.context.pid, undefined);
});

test("terminating task whose machine is lost is dead, not restarted", (t) => {
  const task = run(
    newTask("always"),
    { type: "SCHEDULE", node: "n", ports: [] },
    { type: "KILL", reason: "killed by user" },
    { type: "LOST", reason: "machine lost" },
  );
  t.is(task.state, "dead");
  t.is(task.context.reason, "killed by user (machine lost)");
});

test("failure to start is final", (t) => {
  const task = run(newTask("always"), { type: "SCHEDULE", node: "n", ports: [] }, { type: "FAILED", message: "no such binary" });
  t.is(task.state, "dead");
  t.is(task.context.reason, "failed to start: no such binary");
});

test("events that do not apply are refused, not guessed", (t) => {
  t.is(applyTaskEvent(newTask("always"), { type: "STARTED", pid: 1 }), undefined);
  t.is(applyTaskEvent(newTask("always"), { type: "EXITED", exitCode: 0 }), undefined);
  const dead = run(newTask("always"), { type: "KILL", reason: "x" });
  t.is(applyTaskEvent(dead, { type: "SCHEDULE", node: "n", ports: [] }), undefined);
});

test("new tasks do not share mutable state", (t) => {
  const a = newTask("always");
  const b = newTask("always");
  a.context.ports.push(1);
  t.deepEqual(b.context.ports, []);
  t.not(a.context, b.context);
});
