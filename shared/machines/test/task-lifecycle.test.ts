import test from "ava";
import { applyTaskEvent, newTask, restartBackoffMs, RESTART_BACKOFF_CAP_MS, STABLE_RUN_MS, type TaskLifecycleState } from "../index.js";
import { run } from "./support/run-events.js";


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

test("a task placed in an alloc keeps the alloc while placed, and leaves it with its machine", (t) => {
  const placed = run(newTask("always"), { type: "SCHEDULE", node: "n1", ports: [], alloc: "0.slots.alice.local" }, { type: "STARTED", pid: 7 });
  t.is(placed.context.alloc, "0.slots.alice.local");
  const lost = run(placed, { type: "LOST", reason: "machine lost", cause: "machine_lost" });
  t.is(lost.context.alloc, undefined);
  const exited = run(placed, { type: "EXITED", exitCode: 1 });
  t.is(exited.state, "pending");
  t.is(exited.context.alloc, undefined);
});

test("machine lost: back to pending, unplaced, next incarnation, reason kept", (t) => {
  const task = run(
    newTask("always"),
    { type: "SCHEDULE", node: "n1", ports: [1] },
    { type: "STARTED", pid: 7 },
    { type: "LOST", reason: "machine lost", cause: "machine_lost" },
  );
  t.is(task.state, "pending");
  t.is(task.context.node, undefined);
  t.is(task.context.pid, undefined);
  t.is(task.context.incarnation, 1);
  t.is(task.context.reason, "machine lost");
  t.is(task.context.reasonCode, "machine_lost");
});

test("every reason comes with its code, and the code follows the event, not the words", (t) => {
  const placed = run(newTask("always"), { type: "SCHEDULE", node: "n1", ports: [] }, { type: "STARTED", pid: 7 });
  const codeAfter = (event: Parameters<typeof run>[1]) => run(placed, event).context.reasonCode;
  t.is(codeAfter({ type: "EXITED", exitCode: 1 }), "exited");
  t.is(codeAfter({ type: "EXITED", signal: "SIGSEGV" }), "signalled");
  t.is(codeAfter({ type: "EXITED", signal: "SIGKILL", oom: true }), "oom");
  t.is(codeAfter({ type: "EXITED", exitCode: 0, unhealthy: "GET / answered 503" }), "unhealthy");
  t.is(codeAfter({ type: "FAILED", message: "no such file" }), "failed_to_start");
  t.is(codeAfter({ type: "LOST", reason: "machine lost", cause: "evicted" }), "evicted", "the cause, whatever the text says");
  t.is(codeAfter({ type: "KILL", reason: "killed by user" }), "killed");
  t.is(codeAfter({ type: "PREEMPT", by: "0.urgent.bob.local" }), "preempted");
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
    { type: "LOST", reason: "machine lost", cause: "machine_lost" },
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

test("preempted: stopped like a kill, then back to pending as a new incarnation with the reason, not counted as a restart", (t) => {
  const preempting = run(newTask("never"), { type: "SCHEDULE", node: "n", ports: [20000] }, { type: "STARTED", pid: 7 }, { type: "PREEMPT", by: "0.urgent.alice.local" });
  t.is(preempting.state, "terminating");
  t.is(preempting.context.reason, "preempted by 0.urgent.alice.local");
  const requeued = run(preempting, { type: "EXITED", signal: "SIGTERM" });
  t.is(requeued.state, "pending", "even with restart=never: being preempted is not the task's failure");
  t.is(requeued.context.incarnation, 1);
  t.is(requeued.context.restarts, 0);
  t.is(requeued.context.node, undefined);
  t.deepEqual(requeued.context.ports, []);
  t.is(requeued.context.reason, "preempted by 0.urgent.alice.local");
  t.is(applyTaskEvent(newTask("always"), { type: "PREEMPT", by: "x" }), undefined, "a pending task has nothing to preempt");
});

test("replaced by a newer revision: stopped like a kill, then back to pending as a new incarnation, not a restart; a kill meanwhile ends it", (t) => {
  const replacing = run(newTask("never"), { type: "SCHEDULE", node: "n", ports: [20000] }, { type: "STARTED", pid: 7 }, { type: "REPLACE", revision: 2 });
  t.is(replacing.state, "terminating");
  t.is(replacing.context.replacedBy, 2);
  const requeued = run(replacing, { type: "EXITED", signal: "SIGTERM" });
  t.is(requeued.state, "pending", "even with restart=never: it runs again, from the new revision");
  t.is(requeued.context.incarnation, 1);
  t.is(requeued.context.restarts, 0);
  t.is(requeued.context.reason, "replaced by revision 2");
  t.is(requeued.context.reasonCode, "replaced");
  t.is(requeued.context.replacedBy, undefined);
  t.is(run(replacing, { type: "KILL", reason: "killed by user" }, { type: "EXITED", signal: "SIGTERM" }).state, "dead");
  t.is(applyTaskEvent(newTask("always"), { type: "REPLACE", revision: 2 }), undefined, "a pending task is placed from the new revision anyway");
});

test("killed while being preempted: it stays stopped for good", (t) => {
  const task = run(
    newTask("always"),
    { type: "SCHEDULE", node: "n", ports: [] },
    { type: "PREEMPT", by: "0.urgent.alice.local" },
    { type: "KILL", reason: "killed by user" },
    { type: "EXITED", signal: "SIGTERM" },
  );
  t.is(task.state, "dead");
  t.is(task.context.reason, "killed by user (terminated by SIGTERM)");
});

test("restart backoff: the first restart is immediate, then 1 s, 2 s, 4 s … up to the cap", (t) => {
  t.deepEqual([0, 1, 2, 3, 4, 5].map(restartBackoffMs), [0, 0, 1000, 2000, 4000, 8000]);
  t.is(restartBackoffMs(40), RESTART_BACKOFF_CAP_MS);
});

test("a crash streak grows with each short run, remembers the machines it crashed on, and a long run starts it over", (t) => {
  const crashOn = (task: TaskLifecycleState, node: string, ranForMs: number, exitCode = 1) =>
    run(task, { type: "SCHEDULE", node, ports: [] }, { type: "STARTED", pid: 1 }, { type: "EXITED", exitCode, ranForMs });
  let task = newTask("always");
  task = crashOn(task, "n1", 100);
  task = crashOn(task, "n2", 100);
  task = crashOn(task, "n1", 100);
  t.is(task.state, "pending");
  t.is(task.context.crashStreak, 3);
  t.deepEqual(task.context.crashedOn, ["n2", "n1"], "each machine once, the latest last");
  task = crashOn(task, "n3", 100, 0);
  t.is(task.context.crashStreak, 4, "a clean exit that restarts still counts towards the backoff");
  t.deepEqual(task.context.crashedOn, ["n2", "n1"], "but is no crash of the machine's");
  task = crashOn(task, "n4", STABLE_RUN_MS);
  t.is(task.context.crashStreak, 1, "a long run proves the task can run");
  t.deepEqual(task.context.crashedOn, ["n4"]);
  const oom = run(newTask("always"), { type: "SCHEDULE", node: "n5", ports: [] }, { type: "STARTED", pid: 1 }, { type: "EXITED", signal: "SIGKILL", oom: true, ranForMs: 5 });
  t.regex(oom.context.reason ?? "", /^OOM/);
  t.deepEqual(oom.context.crashedOn, ["n5"]);
});

test("an OOM kill says whose limit was gone over: the task's own, or its alloc's", (t) => {
  const exit = (more: { oomOfAlloc?: boolean }) =>
    run(newTask("never"), { type: "SCHEDULE", node: "n1", ports: [], alloc: "0.slots.alice.local" }, { type: "STARTED", pid: 1 }, { type: "EXITED", signal: "SIGKILL", oom: true, ...more }).context.reason;
  t.is(exit({}), "OOM: killed for going over its memory limit (SIGKILL)");
  t.is(exit({ oomOfAlloc: true }), "OOM: killed because its alloc's tasks together went over the alloc's memory (SIGKILL)");
});

test("only a task's own exit makes it wait out a backoff: lost or preempted, it is placed again at once, the streak kept", (t) => {
  let task = newTask("always");
  for (const node of ["n1", "n2", "n3"]) task = run(task, { type: "SCHEDULE", node, ports: [] }, { type: "STARTED", pid: 1 }, { type: "EXITED", exitCode: 1, ranForMs: 5 });
  t.true(task.context.backingOff);
  const placed = run(task, { type: "SCHEDULE", node: "n4", ports: [] }, { type: "STARTED", pid: 1 });
  t.is(placed.context.backingOff, undefined);
  t.is(run(placed, { type: "LOST", reason: "machine lost", cause: "machine_lost" }).context.backingOff, undefined);
  t.is(run(placed, { type: "LOST", reason: "machine lost", cause: "machine_lost" }).context.crashStreak, 3);
  const preempted = run(placed, { type: "PREEMPT", by: "0.urgent.a.b" }, { type: "EXITED", signal: "SIGTERM" });
  t.is(preempted.state, "pending");
  t.is(preempted.context.backingOff, undefined);
});
