import test from "ava";
import { leaseBatch, open, schedulerKick, subjects, taskChanges } from "@corral/contracts";
import type { NatsConnection } from "@corral/kit";
import { CellState } from "../src/state/cell-state.js";
import { CommandBatch, leaseFor, revocationFor } from "../src/leader/commands.js";
import { addSpec } from "./support/leader-harness.js";

/** A NATS connection that keeps what was published, in order. */
function recorder() {
  const sent: { subject: string; data: Uint8Array | string }[] = [];
  return { sent, nc: { publish: (subject: string, data: Uint8Array | string) => void sent.push({ subject, data }) } as unknown as NatsConnection };
}

test("batches committed together go out as one task-changes event, one history message per job and one kick", (t) => {
  const state = new CellState();
  const job = addSpec(state, { name: "web", replicas: 3 });
  const batches = [0, 1, 2].map((index) => {
    const batch = new CommandBatch();
    const ref = state.task(`${index}.${job.id}`)!;
    batch.changed(state.transition(ref, { type: "SCHEDULE", node: `n${index}`, ports: [] }));
    if (index === 1) batch.wakeSchedulers();
    return batch;
  });
  const { sent, nc } = recorder();
  CommandBatch.sendAll(batches, nc, "c", { epoch: 7, signature: "sig-7" }, 0);
  const changes = sent.filter((m) => m.subject === subjects.taskEvents("c"));
  t.is(changes.length, 1);
  t.deepEqual(open(changes[0]!.data as Uint8Array, taskChanges.type, "c", taskChanges.body).body.changes.map((c) => [c.taskId, c.state, c.node]), [
    [`0.${job.id}`, "assigned", "n0"],
    [`1.${job.id}`, "assigned", "n1"],
    [`2.${job.id}`, "assigned", "n2"],
  ]);
  const history = sent.filter((m) => m.subject === subjects.jobHistory("c", job.id));
  t.is(history.length, 1);
  t.deepEqual((JSON.parse(history[0]!.data as string) as { entries: { task: number }[] }).entries.map((e) => e.task), [0, 1, 2]);
  t.is(sent.filter((m) => m.subject === subjects.schedKick("c")).length, 1);
  t.truthy(open(sent.find((m) => m.subject === subjects.schedKick("c"))!.data as Uint8Array, schedulerKick.type, "c", schedulerKick.body));
});

test("a machine's lease batches merge, except a revocation after a grant, which a borglet would carry out first", (t) => {
  const state = new CellState();
  const job = addSpec(state, { name: "web", replicas: 3 });
  const [a, b, c] = [0, 1, 2].map((index) => state.task(`${index}.${job.id}`)!);
  for (const ref of [a!, b!, c!]) state.transition(ref, { type: "SCHEDULE", node: "n1", ports: [] });
  const grantA = new CommandBatch();
  grantA.grant("n1", leaseFor(a!, state));
  const grantB = new CommandBatch();
  grantB.grant("n1", leaseFor(b!, state));
  grantB.grant("n2", leaseFor(c!, state));
  const revokeA = new CommandBatch();
  revokeA.revoke("n1", revocationFor(a!, "killed by user"));
  revokeA.grant("n1", leaseFor(c!, state));
  const messages = CommandBatch.leaseMessages([grantA, grantB, revokeA]);
  t.deepEqual(
    messages.map((m) => [m.node, m.revokes.map((r) => r.taskId), m.grants.map((g) => g.taskId)]),
    [
      ["n1", [], [a!.id, b!.id]],
      ["n2", [], [c!.id]],
      ["n1", [a!.id], [c!.id]],
    ],
  );
  const { sent, nc } = recorder();
  CommandBatch.sendAll([grantA, grantB, revokeA], nc, "c", { epoch: 7, signature: "sig-7" }, 0);
  const toN1 = sent.filter((m) => m.subject === subjects.nodeCommands("c", "n1")).map((m) => open(m.data as Uint8Array, leaseBatch.type, "c", leaseBatch.body));
  t.deepEqual(toN1.map((e) => [e.epoch, e.body.termSignature, e.body.revokes.length, e.body.grants.length]), [[7, "sig-7", 0, 2], [7, "sig-7", 1, 1]], "in order, fenced with the epoch and its signature");
});
