// Submissions from the JetStream submit stream, each decided once however often it is delivered.
import {
  CorralError,
  describeZodError,
  subjects,
  submissionSchema,
  submitStreamName,
  SUBMIT_CONSUMER,
  type SubmissionOutcome,
  userNameSchema,
} from "@corral/contracts";
import { consumeWorkQueue, ensureWorkQueue, type JsMsg } from "@corral/kit";
import { parseJobSpec, SpecError } from "@corral/spec";
import { admitJob } from "./admit-job.js";
import { recordHistory } from "./job-history.js";
import { CommandBatch } from "../leader/commands.js";
import type { LeaderContext } from "../leader/leader-context.js";

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The user a submission was published as: the last token of `corral.<cell>.submit.<user>`, which NATS lets only that user's producers (and the operator) publish on. */
function userOfSubject(cell: string, subject: string): string | undefined {
  const prefix = subjects.submitStream(cell, "");
  const user = subject.startsWith(prefix) ? subject.slice(prefix.length) : "";
  return userNameSchema.safeParse(user).success ? user : undefined;
}
const encoder = new TextEncoder();

function publishOutcome(ctx: LeaderContext, outcome: SubmissionOutcome): void {
  ctx.nc.publish(subjects.submissionOutcome(ctx.cell, outcome.id), encoder.encode(JSON.stringify(outcome)));
}

function rejected(id: string, error: unknown): SubmissionOutcome {
  if (error instanceof SpecError) {
    const first = error.issues[0];
    return { id, status: "rejected", error: first?.field === undefined ? { code: "bad_request", message: error.message } : { code: "bad_request", message: error.message, field: first.field }, at: Date.now() };
  }
  if (error instanceof CorralError) return { id, status: "rejected", error: error.toBody(), at: Date.now() };
  // Anything else is a bug here, not in the submission; answering (rather than leaving it to
  // be redelivered forever) keeps one bad message from blocking the stream.
  return { id, status: "rejected", error: { code: "internal", message: `could not decide this submission: ${(error as Error).message ?? String(error)}` }, at: Date.now() };
}

/**
 * Decides one submission from the stream. The outcome is stored with the job in the same
 * fenced commit, so a duplicate (same id, even much later) gets the same answer and adds
 * nothing; the message is acknowledged only after that commit, so a leader that dies
 * first leaves it to be delivered to the next.
 */
function decide(ctx: LeaderContext, message: JsMsg): void {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(message.data));
  } catch {
    ctx.log.warn({ seq: message.seq }, "refused a submission that is not JSON");
    message.term();
    return;
  }
  const parsed = submissionSchema.safeParse(body);
  if (!parsed.success) {
    const id = (body as { id?: unknown } | null)?.id;
    const { message: why, field } = describeZodError(parsed.error);
    ctx.log.warn({ seq: message.seq, err: why }, "refused a malformed submission");
    // Without a valid id nobody can be told; with one, the producer learns what is wrong.
    if (typeof id === "string" && ID_PATTERN.test(id)) {
      publishOutcome(ctx, { id, status: "rejected", error: field === undefined ? { code: "bad_request", message: why } : { code: "bad_request", message: why, field }, at: Date.now() });
    }
    message.term();
    return;
  }
  const submission = parsed.data;
  const owner = userOfSubject(ctx.cell, message.subject);
  if (owner === undefined || (submission.user !== undefined && submission.user !== owner)) {
    const why =
      owner === undefined
        ? `published on ${message.subject}, which names no user: publish on ${subjects.submitStream(ctx.cell, "<user>")}`
        : `user is "${submission.user}" but it was published as "${owner}" (on ${message.subject}); leave user out, or publish on ${subjects.submitStream(ctx.cell, submission.user ?? owner)} with that user's NATS credentials`;
    ctx.log.warn({ seq: message.seq, submission: submission.id, err: why }, "refused a submission published under another user");
    publishOutcome(ctx, { id: submission.id, status: "rejected", error: { code: "forbidden", message: why, field: "user" }, at: Date.now() });
    message.term();
    return;
  }
  const known = ctx.state.submissions.get(submission.id);
  if (known !== undefined) {
    // Wait for whatever is being committed (the original may be in flight) before answering again.
    void ctx.commits.commit().then(
      () => {
        publishOutcome(ctx, known);
        message.ack();
      },
      () => message.nak(1000),
    );
    return;
  }
  let outcome: SubmissionOutcome;
  const batch = new CommandBatch();
  try {
    const spec = parseJobSpec(submission.source, { file: submission.file ?? `submission.${submission.format}`, format: submission.format });
    const job = admitJob(ctx, spec, owner);
    outcome = { id: submission.id, status: "accepted", job: job.id, at: Date.now() };
    batch.wakeSchedulers();
    ctx.log.debug({ job: job.id, submission: submission.id, replicas: spec.replicas }, "job accepted from the submit stream");
    recordHistory(ctx.nc, ctx.cell, job.id, { at: Date.now(), kind: "submitted", text: `submitted from the stream (${submission.id}): ${spec.replicas} tasks, ${spec.priority}` });
  } catch (error) {
    outcome = rejected(submission.id, error);
  }
  ctx.state.recordSubmission(outcome);
  ctx.commitAndSend(batch).then(
    () => {
      publishOutcome(ctx, outcome);
      message.ack();
    },
    (error: unknown) => {
      ctx.log.warn({ submission: submission.id, err: (error as Error).message }, "submission not committed; it will be delivered again");
      message.nak(1000);
    },
  );
}

/**
 * What the submit stream holds at most: a submission is a spec of up to 1 MB in a JSON
 * envelope; beyond 100,000 waiting (or 1 GiB), producers are refused until the leader catches up.
 */
const SUBMIT_STREAM_LIMITS = { messageBytes: 1_100_000, messages: 100_000, bytes: 1024 ** 3 };

/** Starts consuming the cell's submit stream for this leader term; returns how to stop. */
export async function consumeSubmissions(ctx: LeaderContext): Promise<() => Promise<void>> {
  const stream = submitStreamName(ctx.cell);
  // A redelivery is harmless (the submission id makes it a no-op), so both waits are short:
  // a submission taken by a leader that died reaches the next one within seconds.
  await ensureWorkQueue(ctx.nc, { stream, subjects: [subjects.submitStreamAll(ctx.cell)], consumer: SUBMIT_CONSUMER, ackWaitMs: 5_000, replicas: ctx.jsReplicas, limits: SUBMIT_STREAM_LIMITS }, ctx.log);
  return consumeWorkQueue(ctx.nc, { stream, consumer: SUBMIT_CONSUMER, pullExpiresMs: 5_000 }, ctx.log, (message) => decide(ctx, message));
}
