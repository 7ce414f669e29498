import test from "ava";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { subjects, submissionOutcomeSchema, submitStreamName, type SubmissionOutcome } from "@corral/contracts";
import { TestCell, eventually } from "@corral/testkit";

let cell: TestCell;
/** the test user's producer: it may publish only under its own user */
let nc: NatsConnection;
/** the cell owner's tools, for what a producer may not do (manage streams) */
let operator: NatsConnection;
test.before(async () => {
  cell = await TestCell.start("submit-stream", { masters: 2, borglets: 1 });
  nc = await cell.connectAs("submit-tester");
  operator = await cell.connectAs("operator");
  await cell.leader(); // the first leader creates the stream
});
test.after.always(async () => {
  await nc?.drain().catch(() => {});
  await operator?.drain().catch(() => {});
  await cell?.stop();
});

const spec = (name: string) => `job ${name} = {
  binary = 'hello_world_webserver'
  args = { port = '%port%' }
  requirements = { ram = 20M  cpu = 0.01 }
  replicas = 1
}`;

/** Publishes a submission to the durable stream (as a producer would, under its user) and waits for its outcome. */
async function submit(body: unknown, id: string, as: { nc: NatsConnection; user: string } = { nc, user: "tester" }): Promise<SubmissionOutcome> {
  const outcome = new Promise<SubmissionOutcome>((resolve) => {
    const sub = nc.subscribe(subjects.submissionOutcome(cell.cell.cell, id), {
      max: 1,
      callback: (_error, message) => resolve(submissionOutcomeSchema.parse(JSON.parse(message.string()))),
    });
    void sub;
  });
  await jetstream(as.nc).publish(subjects.submitStream(cell.cell.cell, as.user), JSON.stringify(body));
  return outcome;
}

test.serial("a submission on the stream is accepted once committed, and its job runs", async (t) => {
  const outcome = await submit({ id: "first-1", user: "tester", format: "borg", source: spec("streamed") }, "first-1");
  t.is(outcome.status, "accepted");
  t.is(outcome.status === "accepted" ? outcome.job : "", "streamed.tester.local");
  await eventually("it runs", async () => ((await cell.job("streamed.tester.local")).summary.running === 1 ? true : undefined), 20_000);
});

test.serial("the same id again is a no-op with the same answer, even with another spec", async (t) => {
  const again = await submit({ id: "first-1", user: "tester", format: "borg", source: spec("other") }, "first-1");
  t.is(again.status, "accepted");
  t.is(again.status === "accepted" ? again.job : "", "streamed.tester.local");
  t.false((await cell.jobs()).some((job) => job.name === "other"), "the second spec was not submitted");
});

test.serial("a bad spec is rejected with the field; a malformed message is refused without a crash", async (t) => {
  const bad = await submit({ id: "bad-1", user: "tester", format: "borg", source: spec("broken").replace("replicas = 1", "replicas = 0") }, "bad-1");
  t.is(bad.status, "rejected");
  t.regex(bad.status === "rejected" ? (bad.error.field ?? "") : "", /replicas/);
  const malformed = await submit({ id: "bad-2", user: "Not Valid", format: "borg", source: "x" }, "bad-2");
  t.is(malformed.status, "rejected");
  t.regex(malformed.status === "rejected" ? malformed.error.message : "", /user/);
  await jetstream(nc).publish(subjects.submitStream(cell.cell.cell, "tester"), "not json at all");
  for (const p of cell.cell.processes) t.true(cell.alive(p.name), `${p.name} survived`);
});

test.serial("a submission is the job of the user it was published as: another user in it is refused, and the operator may publish as anyone", async (t) => {
  const claimed = await submit({ id: "claims-1", user: "mallory", format: "borg", source: spec("claimed") }, "claims-1");
  t.is(claimed.status, "rejected");
  t.is(claimed.status === "rejected" ? claimed.error.code : "", "forbidden");
  t.regex(claimed.status === "rejected" ? claimed.error.message : "", /published as "tester"/);
  const unnamed = await submit({ id: "unnamed-1", format: "borg", source: spec("unnamed") }, "unnamed-1");
  t.is(unnamed.status === "accepted" ? unnamed.job : unnamed.status, "unnamed.tester.local", "without user, the publisher's");
  const forAlice = await submit({ id: "alice-1", format: "borg", source: spec("forher") }, "alice-1", { nc: operator, user: "alice" });
  t.is(forAlice.status === "accepted" ? forAlice.job : forAlice.status, "forher.alice.local");
  t.false((await cell.jobs()).some((job) => job.name === "claimed"));
});

test.serial("what is published while no master leads is processed once one is elected", async (t) => {
  const masters = cell.cell.processes.filter((p) => p.role === "master").map((p) => p.name);
  for (const name of masters) cell.kill(name, "SIGKILL");
  for (const name of masters) await cell.exited(name);
  const pending = submit({ id: "while-down", user: "tester", format: "borg", source: spec("patient") }, "while-down");
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const name of masters) await cell.restart(name);
  const outcome = await pending;
  t.is(outcome.status, "accepted");
  await eventually("it runs", async () => ((await cell.job("patient.tester.local")).summary.running === 1 ? true : undefined), 20_000);
});

test.serial("an HTTP submission retried with the same Idempotency-Key is answered again, not applied again", async (t) => {
  const headers = { "idempotency-key": "retry-me-1" };
  const first = await cell.http<{ job: { id: string } }>("POST", "/v1/jobs", { source: spec("once"), file: "once.borg" }, headers);
  t.is(first.status, 201);
  const again = await cell.http<{ job: { id: string } }>("POST", "/v1/jobs", { source: spec("twice"), file: "twice.borg" }, headers);
  t.is(again.status, 201, "a retry of an accepted submission is accepted again");
  t.is(again.body.job.id, first.body.job.id, "with the first submission's job");
  t.false((await cell.jobs()).some((job) => job.name === "twice"));
  const conflict = await cell.http<{ error: { code: string } }>("POST", "/v1/jobs", { source: spec("once"), file: "once.borg" }, { "idempotency-key": "retry-me-2" });
  t.is(conflict.status, 409, "without the key it is a new submission, and the name is taken");
  const badKey = await cell.http<{ error: { field?: string } }>("POST", "/v1/jobs", { source: spec("x") }, { "idempotency-key": "no spaces allowed" });
  t.is(badKey.status, 400);
  t.regex(badKey.body.error.field ?? "", /idempotency-key/);
});

test.serial("a leader whose submission stream cannot be set up leads anyway, and consumes the stream once it can", async (t) => {
  const jsm = await jetstreamManager(operator);
  const masters = cell.cell.processes.filter((p) => p.role === "master").map((p) => p.name);
  for (const name of masters) cell.kill(name, "SIGKILL");
  for (const name of masters) await cell.exited(name);
  // Another stream holds the submission subject: JetStream refuses the cell's own stream while it exists.
  const stream = submitStreamName(cell.cell.cell);
  await jsm.streams.delete(stream);
  await jsm.streams.add({ name: "blocker", subjects: [subjects.submitStreamAll(cell.cell.cell)] });
  for (const name of masters) await cell.restart(name);
  // Restarted masters on a busy machine can take longer to elect than the gateway's leader wait.
  await cell.leader(90_000);

  const viaHttp = await cell.submit(spec("meanwhile"));
  t.is(viaHttp.id, "meanwhile.tester.local", "a leader serves without its stream consumer");
  await eventually("a master to say it leads without the stream", () => (masters.some((name) => cell.logOf(name).includes("leading without it and trying again")) ? true : undefined), 20_000);

  await jsm.streams.delete("blocker");
  await eventually("the leader to make its stream again", async () => ((await jsm.streams.info(stream).catch(() => undefined)) === undefined ? undefined : true), 30_000);
  const outcome = await submit({ id: "after-blocker", user: "tester", format: "borg", source: spec("unblocked") }, "after-blocker");
  t.is(outcome.status, "accepted");
});
