// The leader's job API (submit, kill, scale, status, nodes, stats): what the gateway and the CLI ask
// of the cell.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { controlRollout as controlRolloutMessage, CorralError, HTTP_SUBMISSION_PREFIX, jobRevisions, jobStatus, killJob, listNodes, masterStats, scaleJob, submitJob, subjects, updateJob } from "@corral/contracts";
import { serveRpc, type Subscription } from "@corral/kit";
import { admitJob } from "./admit-job.js";
import { keepAllocs, liveJobsIn } from "../allocs/alloc-keeper.js";
import { recordHistory } from "./job-history.js";
import { isAlloc } from "../allocs/alloc-sets.js";
import { taskRefOf } from "../state/task-ref.js";
import { revisionOf, type JobRecord } from "@corral/state";
import { revisionsOf, updateJob as updateJobTo } from "./update-job.js";
import { controlRollout } from "./rollout-control.js";
import { CommandBatch, revocationFor } from "../leader/commands.js";
import type { LeaderContext } from "../leader/leader-context.js";
import { scaleJobTo } from "./scale-job.js";
import { jobView, nodeView } from "./views.js";
import { queryJobs } from "./job-query.js";

// A blocked event loop delays lease renewals and every reply: the leader reports how long it was.
const eventLoopDelay = monitorEventLoopDelay({ resolution: 10 });
eventLoopDelay.enable();

export function serveApi(ctx: LeaderContext): Subscription[] {
  const { nc, cell, log, state } = ctx;
  return [
    // Each submission's outcome is stored with its job under its request id, so a retry
    // (the gateway's, after a timeout or a failover) gets the first answer and adds nothing.
    serveRpc(nc, subjects.api(cell, "submit"), submitJob, cell, log, async ({ spec, user, requestId }) => {
      const outcomeId = `${HTTP_SUBMISSION_PREFIX}${requestId}`;
      const known = state.submissions.get(outcomeId);
      if (known !== undefined) {
        await ctx.commits.commit(); // the first attempt's commit may still be in flight
        if (known.status === "rejected") throw new CorralError(known.error.code, known.error.message, known.error.field);
        const job = state.jobs.get(known.job);
        if (job === undefined) throw new CorralError("not_found", `job ${known.job} of request ${requestId} is gone`);
        return { job: jobView(job, state) };
      }
      let job: JobRecord;
      try {
        job = admitJob(ctx, spec, user);
      } catch (error) {
        if (error instanceof CorralError && error.code !== "internal") {
          state.recordSubmission({ id: outcomeId, status: "rejected", error: error.toBody(), at: Date.now() });
        }
        throw error;
      }
      state.recordSubmission({ id: outcomeId, status: "accepted", job: job.id, at: Date.now() });
      const batch = new CommandBatch();
      batch.wakeSchedulers();
      await ctx.commitAndSend(batch);
      // The job's history says when it was submitted; a log line per job is too dear when thousands arrive a second.
      log.debug({ job: job.id, replicas: spec.replicas }, "job accepted");
      recordHistory(nc, cell, job.id, { at: Date.now(), kind: "submitted", text: `submitted: ${spec.replicas} ${spec.kind === "alloc" ? "allocs" : "tasks"}, ${spec.priority}` });
      return { job: jobView(job, state) };
    }),

    serveRpc(nc, subjects.api(cell, "kill"), killJob, cell, log, async ({ job: id, gracePeriodMs }) => {
      const job = state.jobs.get(id);
      if (job === undefined) throw new CorralError("not_found", `no job ${id}`, "job");
      if (isAlloc(job)) {
        const inside = liveJobsIn(state, job.id, job.user);
        if (inside.length > 0) {
          throw new CorralError("conflict", `alloc set ${job.name} still runs job${inside.length > 1 ? "s" : ""} ${inside.join(", ")}; kill ${inside.length > 1 ? "them" : "it"} first (corral kill ${inside[0]}), then the alloc set`, "job");
        }
      }
      job.killed = true;
      state.markDirty(id);
      const batch = new CommandBatch();
      for (const task of job.tasks) {
        const ref = taskRefOf(job, task);
        const change = batch.changed(state.transition(ref, { type: "KILL", reason: "killed by user" }));
        const node = ref.task.lifecycle.context.node;
        // An alloc has no process to stop: the alloc keeper lets it go.
        if (change?.to === "terminating" && node !== undefined && !isAlloc(job)) batch.revoke(node, revocationFor(ref, "killed by user", gracePeriodMs));
      }
      keepAllocs(state, batch);
      await ctx.commitAndSend(batch);
      log.info({ job: id, gracePeriodMs: gracePeriodMs ?? job.spec.gracePeriodMs }, "job killed");
      recordHistory(nc, cell, id, { at: Date.now(), kind: "killed", text: `killed by user${gracePeriodMs === undefined ? "" : ` (grace ${gracePeriodMs} ms)`}` });
      return { job: jobView(job, state) };
    }),

    // Safe to repeat: the same spec again changes nothing.
    serveRpc(nc, subjects.api(cell, "update"), updateJob, cell, log, async (request) => {
      const outcome = await updateJobTo(ctx, { job: request.job, spec: request.spec, user: request.user, ...(request.dryRun === undefined ? {} : { dryRun: request.dryRun }), ...(request.force === undefined ? {} : { force: request.force }) });
      return { job: jobView(outcome.job, state), revision: outcome.revision, change: outcome.change, applied: outcome.applied, ...(outcome.replaces === undefined ? {} : { replaces: outcome.replaces }) };
    }),

    serveRpc(nc, subjects.api(cell, "rollout"), controlRolloutMessage, cell, log, async ({ job: id, user, action, toRevision }) => {
      const job = await controlRollout(ctx, id, user, action, toRevision);
      return { job: jobView(job, state), revision: revisionOf(job) };
    }),

    serveRpc(nc, subjects.api(cell, "revisions"), jobRevisions, cell, log, ({ job: id }) => {
      const job = state.jobs.get(id);
      if (job === undefined) throw new CorralError("not_found", `no job ${id}`, "job");
      return { job: id, revision: revisionOf(job), revisions: revisionsOf(job).map(({ spec: _spec, ...view }) => view) };
    }),

    // Safe to repeat: scaling to the count the job has already changes nothing.
    serveRpc(nc, subjects.api(cell, "scale"), scaleJob, cell, log, async ({ job: id, replicas }) => ({ job: jobView(await scaleJobTo(ctx, id, replicas), state) })),

    serveRpc(nc, subjects.api(cell, "status"), jobStatus, cell, log, (query) => queryJobs(state, query)),

    serveRpc(nc, subjects.api(cell, "nodes"), listNodes, cell, log, () => {
      const now = Date.now();
      const names = [...state.nodes.keys()].sort();
      return { nodes: names.map((name) => nodeView(name, state, now, ctx.reclamation)).filter((view) => view !== undefined) };
    }),

    serveRpc(nc, subjects.api(cell, "stats"), masterStats, cell, log, ({ collectGarbage }) => {
      // Masters run with --expose-gc, so memory per task can be measured without garbage in it.
      const gc = (globalThis as { gc?: () => void }).gc;
      if (collectGarbage && gc !== undefined) gc();
      let tasks = 0;
      let pendingTasks = 0;
      let runningTasks = 0;
      for (const job of state.jobs.values()) {
        for (const task of job.tasks) {
          tasks += 1;
          if (task.lifecycle.state === "pending") pendingTasks += 1;
          else if (task.lifecycle.state === "running") runningTasks += 1;
        }
      }
      const memory = process.memoryUsage();
      const cpu = process.cpuUsage();
      const eventLoopDelayMaxMs = eventLoopDelay.max / 1e6;
      eventLoopDelay.reset();
      return {
        replica: ctx.name,
        epoch: ctx.epoch,
        heapUsedBytes: memory.heapUsed,
        rssBytes: memory.rss,
        jobs: state.jobs.size,
        tasks,
        pendingTasks,
        runningTasks,
        machines: state.nodes.size,
        cpuUserMicros: cpu.user,
        cpuSystemMicros: cpu.system,
        eventLoopDelayMaxMs,
        heartbeats: { ...ctx.heartbeats },
        commits: { ...ctx.commits.stats },
      };
    }),
  ];
}
