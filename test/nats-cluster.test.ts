import test from "ava";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { bnsBucket, historyStream, subjects, submissionOutcomeSchema, submitStreamName, type SubmissionOutcome } from "@corral/contracts";
import { createLogger, ensureWorkQueue } from "@corral/kit";
import { TestCell, eventually, sleeperJob } from "@corral/testkit";

// One cell on a 3-server NATS cluster, its streams and buckets at three copies: it goes on
// accepting, scheduling and failing over with one of the servers gone.
let cell: TestCell;
let nc: NatsConnection;
test.before(async () => {
  cell = await TestCell.start("nats-cluster", { masters: 2, borglets: 1, natsServers: 3 });
  nc = await cell.connectAs("operator");
  await cell.leader();
});
test.after.always(async () => {
  await nc?.drain().catch(() => {});
  await cell?.stop();
});

const spec = (name: string) => sleeperJob(name);

async function running(id: string): Promise<void> {
  await eventually(`${id} running`, async () => ((await cell.job(id)).summary.running === 1 ? true : undefined), 60_000);
}

/** Publishes a submission to the durable stream and waits for its outcome. */
async function submitOnStream(id: string, name: string): Promise<SubmissionOutcome> {
  const outcome = new Promise<SubmissionOutcome>((resolve) => {
    nc.subscribe(subjects.submissionOutcome(cell.cell.cell, id), { max: 1, callback: (_error, message) => resolve(submissionOutcomeSchema.parse(JSON.parse(message.string()))) });
  });
  // While the stream elects a new leader (its old one may have been on the lost server), a
  // publish is refused for a moment; a client sends again, as the idempotent id allows.
  await eventually("the stream takes the submission", async () => {
    try {
      return await jetstream(nc).publish(subjects.submitStream(cell.cell.cell, "tester"), JSON.stringify({ id, user: "tester", format: "borg", source: spec(name) }), { msgID: id });
    } catch {
      return undefined;
    }
  }, 30_000);
  return outcome;
}

test.serial("the cell's streams and buckets keep three copies, one per server", async (t) => {
  const name = cell.cell.cell;
  // The leader makes them as it starts leading, and the names bucket at its first publish.
  await cell.submit(spec("first"));
  await running("first.tester.local");
  const jsm = await jetstreamManager(nc);
  const streams = await eventually("the leader's streams and buckets exist", async () => {
    try {
      return [await jsm.streams.info(submitStreamName(name)), await jsm.streams.info(historyStream(name)), await jsm.streams.info(`KV_${bnsBucket(name)}`)];
    } catch {
      return undefined;
    }
  }, 30_000);
  for (const info of streams) {
    t.is(info.config.num_replicas, 3, info.config.name);
    // The leader and its followers (while a stream elects a leader, all three are listed as followers).
    const peers = new Set([info.cluster?.leader, ...(info.cluster?.replicas ?? []).map((replica) => replica.name)].filter((name) => name !== undefined && name !== ""));
    t.is(peers.size, 3, `${info.config.name} is held by all three servers`);
  }
  t.is((await (await new Kvm(nc).open(bnsBucket(name))).status()).replicas, 3);
});

test.serial("an existing stream with fewer copies than --js-replicas is reported, not silently kept", async (t) => {
  const lines: string[] = [];
  const log = createLogger("test", cell.cell.cell);
  const warn = log.warn.bind(log);
  log.warn = ((...args: Parameters<typeof warn>) => {
    lines.push(JSON.stringify(args));
    warn(...args);
  }) as typeof log.warn;
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "one_copy", subjects: ["one-copy.>"], num_replicas: 1 });
  await ensureWorkQueue(nc, { stream: "one_copy", subjects: ["one-copy.>"], consumer: "c", ackWaitMs: 1000, replicas: 3 }, log);
  t.is((await jsm.streams.info("one_copy")).config.num_replicas, 1, "an existing stream is not changed behind the operator's back");
  t.true(lines.some((line) => line.includes("one_copy keeps 1 copy, fewer than --js-replicas 3")), lines.join("\n"));
});

test.serial("with one NATS server killed, HTTP and stream submissions are accepted and run, and a master failover still works", async (t) => {
  cell.kill("nats-server-1");
  await cell.exited("nats-server-1");
  await cell.submit(spec("after_nats_loss"));
  await running("after_nats_loss.tester.local");
  const outcome = await submitOnStream("streamed-1", "streamed");
  t.is(outcome.status, "accepted");
  await running("streamed.tester.local");

  const before = await cell.leader();
  cell.kill(before.replica);
  const after = await eventually("another master leads", async () => {
    const now = await cell.leader();
    return now.replica !== before.replica ? now : undefined;
  }, 60_000);
  t.true(after.epoch > before.epoch);
  await cell.submit(spec("after_failover"));
  await running("after_failover.tester.local");
});
