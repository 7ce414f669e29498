import test from "ava";
import { parseJobSpec } from "@corral/spec";
import { CellState } from "../src/state/cell-state.js";
import { historyEntryOf } from "../src/jobs/job-history.js";
import { jobRecord } from "./support/leader-harness.js";

function runningTask(restart: "always" | "never") {
  const state = new CellState();
  state.addJob(jobRecord(parseJobSpec(`job: web\nbinary: x\nreplicas: 1\nrestart: ${restart}\nrequirements: { cpu: 0.5, ram: 1G, disk: 1G }\n`, { file: "j.yaml" })));
  const ref = state.task("0.web.alice.local")!;
  state.transition(ref, { type: "SCHEDULE", node: "n1", ports: [] });
  state.transition(ref, { type: "STARTED", pid: 7 });
  return { state, ref };
}

test("history tells a loss, an eviction, a preemption and a restart apart by what happened, whatever the reason's words", (t) => {
  const kindAfter = (...events: Parameters<CellState["transition"]>[1][]) => {
    const { state, ref } = runningTask("always");
    let change;
    for (const event of events) change = state.transition(ref, event);
    return historyEntryOf(change!)?.kind;
  };
  t.is(kindAfter({ type: "LOST", reason: "machine lost", cause: "machine_lost" }), "lost");
  t.is(kindAfter({ type: "LOST", reason: "gone for reasons of its own", cause: "vanished" }), "lost");
  t.is(kindAfter({ type: "LOST", reason: "preempted by nothing: a misleading text", cause: "evicted" }), "evicted", "the cause decides, not the words");
  t.is(kindAfter({ type: "PREEMPT", by: "0.db.alice.local" }, { type: "EXITED", signal: "SIGTERM" }), "preempted");
  t.is(kindAfter({ type: "EXITED", exitCode: 1 }), "restarting");
});
