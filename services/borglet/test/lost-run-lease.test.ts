import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { leaseBatch, subjects, taskEventBatch, type Lease, type TaskEvent } from "@corral/contracts";
import { connectNats, createLogger, LeaderSigner, LeaderVerifier, newLeaderKeyPair, publishEvent, subscribeEvents, type NatsConnection } from "@corral/kit";
import { eventually, startTestNats, type TestServer } from "@corral/testkit";
import { Borglet } from "../src/borglet.js";
import { HostRuntime } from "../src/host-runtime.js";

// The leader's side is played by the test: it sends leases as a leader of epoch 1 would,
// signed with the masters' key, and reads the events the borglet reports.
const CELL = "lost-run";
const NODE = "m0";
let nats: TestServer;
let nc: NatsConnection;
let borglet: Borglet;
let dataDir: string;
const events: TaskEvent[] = [];
const masters = newLeaderKeyPair();
const signer = LeaderSigner.fromPem(masters.privateKey);

test.before(async () => {
  nats = await startTestNats("lost-run-lease");
  const log = createLogger("borglet-test", CELL);
  nc = await connectNats(nats.url, "lost-run-test", log);
  subscribeEvents(nc, subjects.nodeEvents(CELL, NODE), taskEventBatch, CELL, log, ({ body }) => {
    events.push(...body.events);
  });
  await nc.flush();
  dataDir = mkdtempSync(join(tmpdir(), "corral-lost-run-"));
  const runtime = new HostRuntime({ name: NODE, host: "127.0.0.1", dataDir, binaryPath: ["/bin", "/usr/bin"], logMaxBytes: 2 ** 20, isolation: { ok: false, problem: "not needed here" } }, log);
  borglet = new Borglet(
    nc,
    { cell: CELL, name: NODE, host: "127.0.0.1", capacity: { cpu: 1, ram: 2 ** 30, disk: 2 ** 30 }, attributes: {}, portRange: [40_000, 40_100], heartbeatMs: 60_000, leader: LeaderVerifier.fromPem(masters.publicKey) },
    runtime,
    log,
  );
  borglet.start();
});

test.after.always(async () => {
  borglet?.stop();
  await nc?.drain().catch(() => {});
  await nats?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

function lease(taskId: string, incarnation: number, args: string[], afterLostRun?: number): Lease {
  return {
    taskId,
    incarnation,
    binary: "/bin/sh",
    args,
    env: {},
    ports: [],
    requirements: { cpu: 0.01, ram: 2 ** 20, disk: 0, ports: 0 },
    gracePeriodMs: 0,
    ...(afterLostRun === undefined ? {} : { afterLostRun }),
  };
}

function grant(...grants: Lease[]): void {
  publishEvent(nc, subjects.nodeCommands(CELL, NODE), leaseBatch, CELL, { node: NODE, grants, revokes: [], termSignature: signer.signTerm(CELL, 1) }, 1);
}

const eventsOf = (taskId: string, incarnation: number, kind: TaskEvent["kind"]) => events.filter((event) => event.taskId === taskId && event.incarnation === incarnation && event.kind === kind);

test("a lease after a lost run that finished here is not started; the run's exit is reported again instead", async (t) => {
  const task = "0.done.alice.lost-run";
  grant(lease(task, 0, ["-c", "exit 0"]));
  await eventually("run 0 exited", () => eventsOf(task, 0, "exited")[0], 30_000);
  // The leader gave run 0 up with the machine and placed run 1 here, not knowing run 0 finished.
  grant(lease(task, 1, ["-c", "exit 0"], 0));
  await eventually("run 0's exit reported again", () => (eventsOf(task, 0, "exited").length === 2 ? true : undefined), 30_000);
  const [first, again] = eventsOf(task, 0, "exited");
  t.deepEqual(again, first, "the same exit, as it was");
  t.is(first?.kind === "exited" ? first.exitCode : undefined, 0);
  // A later lease for the same task, sent after the one held back, is how the test knows the
  // borglet has carried out the one before: leases are carried out in order.
  const probe = "0.probe.alice.lost-run";
  grant(lease(probe, 0, ["-c", "exit 0"]));
  await eventually("the probe started", () => eventsOf(probe, 0, "started")[0], 30_000);
  t.is(eventsOf(task, 1, "started").length, 0, "run 1 never started");
});

test("a lease after a lost run that failed here, or that this machine never saw end, starts", async (t) => {
  const failed = "0.failed.alice.lost-run";
  grant(lease(failed, 0, ["-c", "exit 3"]));
  await eventually("run 0 exited", () => eventsOf(failed, 0, "exited")[0], 30_000);
  grant(lease(failed, 1, ["-c", "exit 0"], 0));
  await eventually("run 1 started", () => eventsOf(failed, 1, "started")[0], 30_000);
  t.is(eventsOf(failed, 0, "exited").length, 1, "the failure is not reported again");

  const unseen = "0.unseen.alice.lost-run";
  grant(lease(unseen, 4, ["-c", "exit 0"], 3));
  await eventually("run 4 started", () => eventsOf(unseen, 4, "started")[0], 30_000);
  t.pass();
});

test("a command with a huge epoch that the masters' key did not sign is refused, and the real leader is still obeyed", async (t) => {
  const forger = LeaderSigner.fromPem(newLeaderKeyPair().privateKey);
  const forged = "0.forged.mallory.lost-run";
  const huge = 2 ** 40;
  // Signed by another key, then with the real term's signature but a made-up epoch, then with none.
  for (const termSignature of [forger.signTerm(CELL, huge), signer.signTerm(CELL, 1), ""]) {
    publishEvent(nc, subjects.nodeCommands(CELL, NODE), leaseBatch, CELL, { node: NODE, grants: [lease(forged, 0, ["-c", "exit 0"])], revokes: [], termSignature }, huge);
  }
  const real = "0.after-forgery.alice.lost-run";
  grant(lease(real, 0, ["-c", "exit 0"]));
  await eventually("the real leader's lease started", () => eventsOf(real, 0, "started")[0], 30_000);
  t.is(eventsOf(forged, 0, "started").length, 0, "no forged lease ran");
});
