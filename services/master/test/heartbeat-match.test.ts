import test from "ava";
import { taskListDigest, type Heartbeat, type HeartbeatTask } from "@corral/contracts";
import { parseJobSpec } from "@corral/spec";
import { CellState } from "../src/state/cell-state.js";
import { heartbeatChangesNothing, placedTasksDigest } from "../src/heartbeats/heartbeat-match.js";
import { jobRecord } from "./support/leader-harness.js";

function cellWithTwoTasksOnN1(): CellState {
  const spec = parseJobSpec(`job: web\nbinary: x\nreplicas: 3\nrequirements: { cpu: 0.5, ram: 1G, disk: 1G }\n`, { file: "j.yaml" });
  const state = new CellState();
  state.addJob(jobRecord(spec));
  for (const id of ["0.web.alice.local", "1.web.alice.local"]) {
    const ref = state.task(id)!;
    state.transition(ref, { type: "SCHEDULE", node: "n1", ports: [] });
    state.transition(ref, { type: "STARTED", pid: 100 });
  }
  return state;
}

function beat(tasks: HeartbeatTask[], node = "n1"): Heartbeat {
  return { node, host: "h", pid: 1, capacity: { cpu: 4, ram: 2 ** 33, disk: 2 ** 33 }, attributes: {}, portRange: [20000, 20010], startedAt: 1, seq: 1, epochSeen: 1, tasks };
}

const running = (index: number, incarnation = 0): HeartbeatTask => ({ taskId: `${index}.web.alice.local`, incarnation, state: "running", pid: 100, ports: [] });

test("a machine running exactly what is placed on it changes nothing", (t) => {
  const state = cellWithTwoTasksOnN1();
  t.true(heartbeatChangesNothing(state, beat([running(0), running(1)])));
  t.true(heartbeatChangesNothing(state, beat([], "n2")), "an idle machine with nothing placed");
});

test("a missing, extra, duplicated or stale task goes to the leader", (t) => {
  const state = cellWithTwoTasksOnN1();
  t.false(heartbeatChangesNothing(state, beat([running(0)])), "a placed task not reported");
  t.false(heartbeatChangesNothing(state, beat([running(0), running(1), running(2)])), "a task not placed there");
  t.false(heartbeatChangesNothing(state, beat([running(0), running(0)])), "the same task twice");
  t.false(heartbeatChangesNothing(state, beat([running(0), running(1, 7)])), "another incarnation");
  t.false(heartbeatChangesNothing(state, beat([running(0), running(1)], "n2")), "tasks placed on another machine");
});

test("a start the leader has not seen, or a task still running after a kill, goes to the leader", (t) => {
  const state = cellWithTwoTasksOnN1();
  const third = state.task("2.web.alice.local")!;
  state.transition(third, { type: "SCHEDULE", node: "n1", ports: [] });
  t.true(heartbeatChangesNothing(state, beat([running(0), running(1), { ...running(2), state: "starting", pid: undefined }])), "still starting: nothing to catch up");
  t.false(heartbeatChangesNothing(state, beat([running(0), running(1), running(2)])), "running while placed as assigned");

  state.transition(state.task("0.web.alice.local")!, { type: "KILL", reason: "killed by user" });
  t.false(heartbeatChangesNothing(state, beat([running(0), running(1), { ...running(2), state: "starting", pid: undefined }])), "running while the leader stops it");
});

test("a heartbeat whose usage moved past the threshold goes to the leader whole; usage that did not move stays with the shard", (t) => {
  const state = cellWithTwoTasksOnN1();
  const measured = (index: number): HeartbeatTask => ({ ...running(index), usage: { cpu: 0.3, ram: 50 * 2 ** 20 } });
  t.true(heartbeatChangesNothing(state, beat([measured(0), measured(1)])));
  t.false(heartbeatChangesNothing(state, { ...beat([measured(0), measured(1)]), usageMoved: true }));
});

test("a digest in place of the list changes nothing exactly when it is the digest of what is placed there", (t) => {
  const state = cellWithTwoTasksOnN1();
  const digestOnly = (tasks: HeartbeatTask[], node = "n1"): Heartbeat => {
    const { tasks: _listed, ...rest } = beat([], node);
    return { ...rest, tasksDigest: taskListDigest(tasks) };
  };
  t.is(placedTasksDigest(state, "n1"), taskListDigest([running(1), running(0)]));
  t.true(heartbeatChangesNothing(state, digestOnly([running(1), running(0)])), "in any order");
  t.true(heartbeatChangesNothing(state, digestOnly([], "n2")), "an idle machine");
  t.false(heartbeatChangesNothing(state, digestOnly([running(0)])), "a placed task missing");
  t.false(heartbeatChangesNothing(state, digestOnly([running(0), running(1, 7)])), "another incarnation");
  const third = state.task("2.web.alice.local")!;
  state.transition(third, { type: "SCHEDULE", node: "n1", ports: [] });
  t.true(heartbeatChangesNothing(state, digestOnly([running(0), running(1), { ...running(2), state: "starting", pid: undefined }])), "assigned is starting there");
  state.transition(state.task("0.web.alice.local")!, { type: "KILL", reason: "killed by user" });
  t.false(heartbeatChangesNothing(state, digestOnly([running(0), running(1), { ...running(2), state: "starting", pid: undefined }])), "still running while the leader stops it");
  t.false(heartbeatChangesNothing(state, { ...digestOnly([running(0), running(1)]), usageMoved: true }));
});
