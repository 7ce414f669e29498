import test from "ava";
import { applyTaskEvent, lostRunThatMayFinishIt, MACHINE_LOST, newTask, type TaskLifecycleEvent, type TaskLifecycleState } from "../index.js";
import { run } from "./support/run-events.js";

/** Incarnation 0 ran on n1 until n1 was marked down; incarnation 1 is pending. */
function lostOnce(policy: "never" | "on-failure" | "always"): TaskLifecycleState {
  return run(newTask(policy), { type: "SCHEDULE", node: "n1", ports: [] }, { type: "STARTED", pid: 7 }, { type: "LOST", reason: MACHINE_LOST, cause: "machine_lost" });
}

const doneLate: TaskLifecycleEvent = { type: "EXITED_AFTER_LOSS", incarnation: 0, exitCode: 0 };

for (const policy of ["never", "on-failure"] as const) {
  test(`${policy}: the lost run's exit 0, reported late, finishes the task before it runs again`, (t) => {
    const pending = lostOnce(policy);
    const done = run(pending, doneLate);
    t.is(done.state, "dead");
    t.is(done.context.exitCode, 0);
    t.regex(done.context.reason ?? "", /exited with code 0 \(reported after its machine was marked down\)/);
    t.is(done.context.restarts, 0, "not a restart");

    const placedAgain = run(pending, { type: "SCHEDULE", node: "n2", ports: [5] });
    const doneBeforeStart = run(placedAgain, doneLate);
    t.is(doneBeforeStart.state, "dead");
    t.is(doneBeforeStart.context.node, undefined, "off n2, whose lease the master revokes");
    t.deepEqual(doneBeforeStart.context.ports, []);
  });
}

test("a late exit changes nothing once the next run has started: that run's own exit decides", (t) => {
  const running = run(lostOnce("never"), { type: "SCHEDULE", node: "n2", ports: [] }, { type: "STARTED", pid: 9 });
  t.is(applyTaskEvent(running, doneLate), undefined);
});

test("only a clean exit of the run just before, of a batch task lost with its machine, counts", (t) => {
  t.is(applyTaskEvent(lostOnce("always"), doneLate), undefined, "a service runs again anyway");
  t.is(applyTaskEvent(lostOnce("never"), { type: "EXITED_AFTER_LOSS", incarnation: 0, exitCode: 1 }), undefined, "a failure is what the new run redoes");
  t.is(applyTaskEvent(lostOnce("never"), { type: "EXITED_AFTER_LOSS", incarnation: 0, signal: "SIGKILL" }), undefined);
  t.is(applyTaskEvent(lostOnce("never"), { type: "EXITED_AFTER_LOSS", incarnation: 0 }), undefined, "no exit code: not known to have finished");
  // Lost twice: incarnation 0's exit is two runs old; incarnation 1 may have run too.
  const twice = run(lostOnce("never"), { type: "SCHEDULE", node: "n2", ports: [] }, { type: "LOST", reason: MACHINE_LOST, cause: "machine_lost" });
  t.is(applyTaskEvent(twice, doneLate), undefined);
  t.is(run(twice, { type: "EXITED_AFTER_LOSS", incarnation: 1, exitCode: 0 }).state, "dead");
  // Evicted or vanished, not lost with its machine: the borglet knew and stopped it.
  const evicted = run(newTask("never"), { type: "SCHEDULE", node: "n1", ports: [] }, { type: "STARTED", pid: 7 }, { type: "LOST", reason: "evicted: memory pressure", cause: "evicted" });
  t.is(applyTaskEvent(evicted, doneLate), undefined);
  // Killed meanwhile: the kill stands.
  t.is(applyTaskEvent(run(lostOnce("never"), { type: "KILL", reason: "killed by user" }), doneLate), undefined);
});

test("a lease names the lost run exactly when that run's late exit 0 would finish the task", (t) => {
  const placedAgain = (pending: TaskLifecycleState) => run(pending, { type: "SCHEDULE", node: "n1", ports: [] });
  t.is(lostRunThatMayFinishIt(placedAgain(lostOnce("never")).context), 0);
  t.is(lostRunThatMayFinishIt(placedAgain(lostOnce("on-failure")).context), 0);
  t.is(lostRunThatMayFinishIt(placedAgain(lostOnce("always")).context), undefined, "a service runs again anyway");
  t.is(lostRunThatMayFinishIt(run(newTask("never"), { type: "SCHEDULE", node: "n1", ports: [] }).context), undefined, "a first run");
  const evicted = run(newTask("never"), { type: "SCHEDULE", node: "n1", ports: [] }, { type: "STARTED", pid: 7 }, { type: "LOST", reason: "evicted: memory pressure", cause: "evicted" });
  t.is(lostRunThatMayFinishIt(placedAgain(evicted).context), undefined, "the borglet stopped it");
  // Whatever lostRunThatMayFinishIt names, a clean late exit of that run finishes the task.
  const named = lostRunThatMayFinishIt(placedAgain(lostOnce("never")).context)!;
  t.is(run(placedAgain(lostOnce("never")), { type: "EXITED_AFTER_LOSS", incarnation: named, exitCode: 0 }).state, "dead");
});
