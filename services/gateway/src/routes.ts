import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { CorralError, FEDERATION_LABEL, RESERVED_LABEL_PREFIX, federationOf, parseSelector, jobStatus, killJob, listNodes, MAX_TASKS_PAGE, type JobQuery, planJob, readLogs, scaleJob, standbyStatus, subjects, submitJob, whyPending, type JobSpec, type JobView } from "@corral/contracts";
import { callRpc, readJobHistory, type Logger, type NatsConnection, type ResendSignal } from "@corral/kit";
import { parseJobSpec } from "@corral/spec";
import { registerLiveStream } from "./ui/live-stream.js";
import { sigmaPage } from "./ui/sigma-page.js";
import type { Federation } from "./federation/federation.js";
import { cellQuerySchema, DEFAULT_JOBS_PAGE, jobQuerySchema, killQuerySchema, logsQuerySchema, requestIdFrom, requestUser, resolveJobReference, scaleBodySchema, submitBodySchema, userQuerySchema, validate, type JobReference } from "./requests.js";
import { pageToken, readPageToken } from "./page-token.js";

/**
 * Per attempt, for requests a repeat cannot apply twice: a request that went to a leader
 * as it died is sent again after this long, which bounds what a failover costs a client.
 */
const IDEMPOTENT_ATTEMPT_MS = 1000;

export interface RouteContext {
  nc: NatsConnection;
  /** the home cell: where a job without runtime.cell goes, and what short names mean */
  cell: string;
  /** every cell behind this gateway (the home cell alone without a federation) */
  cells: readonly string[];
  federation?: Federation;
  /** how long a request waits for a leader during an election */
  leaderWaitMs: number;
  /** each cell's leader announcements: an idempotent request in flight to a dead leader is sent again when the next one serves */
  leaderChanges: ReadonlyMap<string, ResendSignal>;
  log: Logger;
}

/**
 * Job status from the leader; while there is none (a failover), from any standby's copy,
 * marked stale; if no standby answers either, wait for a leader after all.
 */
async function readJobs(ctx: RouteContext, cell: string, query: JobQuery, waitForLeader = true): Promise<{ jobs: JobView[]; next?: string; stale: boolean; servedBy?: string }> {
  const { nc } = ctx;
  try {
    return { ...(await callRpc(nc, subjects.api(cell, "status"), jobStatus, cell, query, { timeoutMs: 1500 })), stale: false };
  } catch (error) {
    if (!(error instanceof CorralError) || error.code !== "unavailable") throw error;
  }
  try {
    const copy = await callRpc(nc, subjects.read(cell, "status"), standbyStatus, cell, query, { timeoutMs: 1500 });
    return { jobs: copy.jobs, ...(copy.next === undefined ? {} : { next: copy.next }), stale: true, servedBy: copy.replica };
  } catch (error) {
    if (!(error instanceof CorralError) || error.code !== "unavailable") throw error;
  }
  if (!waitForLeader) throw new CorralError("unavailable", `neither cell ${cell}'s leader nor a standby answers`);
  return { ...(await callRpc(nc, subjects.api(cell, "status"), jobStatus, cell, query, { timeoutMs: 5000, retryForMs: ctx.leaderWaitMs })), stale: false };
}

function resendOn(ctx: RouteContext, cell: string): { resendOn?: ResendSignal } {
  const signal = ctx.leaderChanges.get(cell);
  return signal === undefined ? {} : { resendOn: signal };
}

/** The cell a spec or a query names, which must be one behind this gateway. */
function cellNamed(ctx: RouteContext, cell: string | undefined, field: string): string {
  if (cell === undefined) return ctx.cell;
  if (!ctx.cells.includes(cell)) {
    throw new CorralError(field === "job" ? "not_found" : "bad_request", `${field}: cell '${cell}' is not behind this gateway; it serves ${ctx.cells.join(", ")}`, field);
  }
  return cell;
}

export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { nc, cell: home } = ctx;
  const ask = { timeoutMs: 5000, retryForMs: ctx.leaderWaitMs };
  const federation = ctx.federation;

  /** A job reference from a URL: a federated job, or a job of one of the cells. */
  async function referenced(reference: string, headers: Record<string, unknown>): Promise<JobReference> {
    const found = await resolveJobReference(reference, requestUser(headers), home, async (id) => (federation === undefined ? false : federation.exists(id)));
    if (found.kind === "cell") cellNamed(ctx, found.cell, "job");
    else if (federation === undefined) throw new CorralError("not_found", `no federated job ${found.id}: this gateway federates no cells`, "job");
    return found;
  }

  /** A job of one cell; a federated job's own routes are the few that make sense for all of it. */
  async function cellJob(reference: string, headers: Record<string, unknown>, what: string): Promise<{ id: string; cell: string }> {
    const found = await referenced(reference, headers);
    if (found.kind === "federated") {
      throw new CorralError("bad_request", `${found.id} is a federated job; ${what} works on one cell's part of it: use <job>.<user>.<cell>, e.g. ${found.id}.${federation?.cells[0] ?? home}`, "job");
    }
    return found;
  }

  app.get("/v1/healthz", async () => ({ ok: true, cell: home, cells: ctx.cells }));

  /** The spec and its user from a submission body (a parsed spec, or source text in Borg, YAML or JSON). */
  function specFrom(request: { body: unknown; headers: Record<string, string | string[] | undefined> }): { spec: JobSpec; user: string } {
    const body = validate(submitBodySchema, request.body, "body");
    const spec =
      "spec" in body
        ? parseJobSpec(JSON.stringify(body.spec, null, 2), { file: "request.json", format: "json" })
        : parseJobSpec(body.source, body.format === undefined ? { file: body.file ?? "request.borg" } : { file: body.file ?? `request.${body.format}`, format: body.format });
    // A user's job labelled as a federation's member would be hidden in the federated view.
    const reserved = Object.keys(spec.labels).find((key) => key.startsWith(RESERVED_LABEL_PREFIX));
    if (reserved !== undefined) throw new CorralError("bad_request", `labels: '${reserved}' is Corral's own (${RESERVED_LABEL_PREFIX}…); choose another key`, `labels.${reserved}`);
    const user = spec.user ?? requestUser(request.headers);
    if (user === undefined) {
      throw new CorralError("bad_request", "the job has no user: set `user = 'alice'` in the spec or send the X-Corral-User header", "user");
    }
    return { spec, user };
  }

  // Nomad's job plan: where the tasks would go and what would be preempted; nothing is committed.
  app.post("/v1/plan", async (request) => {
    const { spec, user } = specFrom(request);
    if (federationOf(spec) !== undefined) {
      throw new CorralError("bad_request", "runtime.cells: plan works on one cell; plan each cell's part with runtime = { cell = '<cell>' }", "runtime.cells");
    }
    const cell = cellNamed(ctx, spec.runtime.cell, "runtime.cell");
    return callRpc(nc, subjects.api(cell, "plan"), planJob, cell, { spec, user }, ask);
  });

  app.post("/v1/jobs", async (request, reply) => {
    const { spec, user } = specFrom(request);
    // Safe to retry after a timeout (a dying leader): the request id makes a repeat a no-op.
    const requestId = requestIdFrom(request.headers);
    if (federationOf(spec) !== undefined) {
      if (federation === undefined) {
        throw new CorralError("bad_request", `runtime.cells: this gateway serves cell ${home} alone; submit a federated job to a gateway started with --cells, or use runtime = { cell = '${home}' }`, "runtime.cells");
      }
      return reply.code(201).send({ job: await federation.submit(spec, user, requestId) });
    }
    const cell = cellNamed(ctx, spec.runtime.cell, "runtime.cell");
    // The leader's job view goes back to the client as it is (trusted, see trustResult): it is the submission path's largest message.
    const result = await callRpc(nc, subjects.api(cell, "submit"), submitJob, cell, { spec, user, requestId }, { timeoutMs: IDEMPOTENT_ATTEMPT_MS, retryForMs: ctx.leaderWaitMs, idempotent: true, trustResult: true, ...resendOn(ctx, cell) });
    return reply.code(201).send(result);
  });

  // Paged by job id (Kubernetes' limit and continue): no answer grows with the cell.
  app.get("/v1/jobs", async (request) => {
    const query = validate(userQuerySchema, request.query, "query");
    // Checked before anything is asked of the leader: a bad selector is the caller's to fix.
    const selector = query.selector === undefined ? undefined : parseSelector(query.selector);
    const after = query.continue === undefined ? undefined : readPageToken(query.continue, "after").after;
    const limit = query.limit ?? DEFAULT_JOBS_PAGE;
    const ask: JobQuery = { limit, ...(query.user === undefined ? {} : { user: query.user }), ...(query.selector === undefined ? {} : { selector: query.selector }), ...(after === undefined ? {} : { after }) };
    const onward = (next: string | undefined) => (next === undefined ? {} : { continue: pageToken({ after: next }) });
    if (federation === undefined) {
      const { next, ...answer } = await readJobs(ctx, home, ask);
      return { ...answer, ...onward(next) };
    }
    // One federated view: every cell's jobs merged in id order, a federated job once (not as its members).
    const pages: { jobs: JobView[]; next?: string }[] = [];
    const unreachable: string[] = [];
    let stale = false;
    await Promise.all(
      ctx.cells.map(async (cell) => {
        // A cell known to be down is not asked: its silence would hold up the whole list.
        if (federation.monitor.health(cell) === "down") {
          unreachable.push(cell);
          return;
        }
        // One cell in trouble is reported as unreachable, not allowed to fail (or hold up) the whole list.
        try {
          const answer = await readJobs(ctx, cell, ask, false);
          pages.push(answer);
          stale ||= answer.stale;
        } catch (error) {
          if (!(error instanceof CorralError) || error.code !== "unavailable") ctx.log.warn({ cell, err: (error as Error).message }, "a cell's job list failed");
          unreachable.push(cell);
        }
      }),
    );
    // Each cell answered at most `limit` after the same id: the first `limit` of them all is this page.
    const merged = pages.flatMap((page) => page.jobs).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const page = merged.slice(0, limit);
    const more = merged.length > limit || pages.some((answer) => answer.next !== undefined);
    const jobs = page.filter((job) => job.labels[FEDERATION_LABEL] === undefined);
    // Federated jobs are few and kept apart: they come whole with the first page.
    const federated = after === undefined ? await federation.list(query.user, new Set(unreachable), selector) : [];
    return { jobs, federated, stale, unreachable: unreachable.sort(), ...onward(more ? page[page.length - 1]?.id : undefined) };
  });

  // A job's tasks come a page at a time (?limit, up to 10,000; ?continue from the last page's answer).
  app.get<{ Params: { job: string } }>("/v1/jobs/:job", async (request) => {
    const query = validate(jobQuerySchema, request.query, "query");
    const found = await referenced(request.params.job, request.headers);
    if (found.kind === "federated") return { job: await federation!.view(found.id), stale: false };
    const tasksFrom = query.continue === undefined ? 0 : readPageToken(query.continue, "tasksFrom").tasksFrom;
    const { jobs, stale, servedBy } = await readJobs(ctx, found.cell, { job: found.id, tasksFrom, tasksLimit: query.limit ?? MAX_TASKS_PAGE });
    const job = jobs[0];
    if (job === undefined) throw new CorralError("not_found", `no job ${found.id}`, "job");
    const onward = job.moreTasksFrom === undefined ? {} : { continue: pageToken({ tasksFrom: job.moreTasksFrom }) };
    return servedBy === undefined ? { job, stale, ...onward } : { job, stale, servedBy, ...onward };
  });

  app.get<{ Params: { job: string } }>("/v1/jobs/:job/why", async (request) => {
    const { id, cell } = await cellJob(request.params.job, request.headers, "why");
    return callRpc(nc, subjects.api(cell, "why"), whyPending, cell, { job: id }, ask);
  });

  // kubectl scale: a job's replica count, up or down; repeating it changes nothing.
  app.post<{ Params: { job: string } }>("/v1/jobs/:job/scale", async (request) => {
    const found = await referenced(request.params.job, request.headers);
    const { replicas } = validate(scaleBodySchema, request.body, "body");
    // A federated job's count is its record's: the reconciler takes it to the cells.
    if (found.kind === "federated") return { job: await federation!.scale(found.id, replicas) };
    const { id, cell } = found;
    if (federation !== undefined) {
      // A member's count is the federation's to set: scaled here, it would be set back.
      const owner = (await callRpc(nc, subjects.api(cell, "status"), jobStatus, cell, { job: id, countsOnly: true }, ask)).jobs[0]?.labels[FEDERATION_LABEL];
      if (owner !== undefined) throw new CorralError("bad_request", `${id} is cell ${cell}'s part of federated job ${owner}; scale that instead (corral scale ${owner} N)`, "job");
    }
    return callRpc(nc, subjects.api(cell, "scale"), scaleJob, cell, { job: id, replicas }, { timeoutMs: IDEMPOTENT_ATTEMPT_MS, retryForMs: ctx.leaderWaitMs, idempotent: true, ...resendOn(ctx, cell) });
  });

  app.delete<{ Params: { job: string } }>("/v1/jobs/:job", async (request, reply) => {
    const found = await referenced(request.params.job, request.headers);
    const { grace } = validate(killQuerySchema, request.query, "query");
    if (found.kind === "federated") {
      if (grace !== undefined) throw new CorralError("bad_request", "query: grace: a federated job's members stop with the job's own grace period; leave grace out", "query.grace");
      return reply.code(202).send({ job: await federation!.kill(found.id) });
    }
    const { id, cell } = found;
    // Killing a killed job changes nothing, so a kill is retried after a timeout too.
    const result = await callRpc(nc, subjects.api(cell, "kill"), killJob, cell, grace === undefined ? { job: id } : { job: id, gracePeriodMs: grace }, { timeoutMs: IDEMPOTENT_ATTEMPT_MS, retryForMs: ctx.leaderWaitMs, idempotent: true, ...resendOn(ctx, cell) });
    return reply.code(202).send(result);
  });

  app.get<{ Params: { job: string; index: string } }>("/v1/jobs/:job/tasks/:index/logs", async (request, reply) => {
    const { id, cell } = await cellJob(request.params.job, request.headers, "logs");
    const index = validate(z.coerce.number().int().min(0), request.params.index, "index");
    const query = validate(logsQuerySchema, request.query, "query");
    const { jobs } = await callRpc(nc, subjects.api(cell, "status"), jobStatus, cell, { job: id }, ask);
    const task = jobs[0]?.tasks[index];
    if (task === undefined) throw new CorralError("not_found", `job ${id} has no task ${index}`, "index");
    if (task.node === undefined) throw new CorralError("not_found", `task ${task.id} is ${task.state} and has no machine, so no logs`, "index");
    const logs = await callRpc(nc, subjects.nodeLogs(cell, task.node), readLogs, cell, {
      taskId: task.id,
      stream: query.stream,
      tailBytes: query.tail,
      ...(query.from === undefined ? {} : { from: query.from }),
    });
    if (query.format === "json") return reply.send({ task: task.id, state: task.state, ...logs });
    return reply
      .header("content-type", "text/plain; charset=utf-8")
      .header("x-corral-log-size", String(logs.size))
      .header("x-corral-log-truncated", String(logs.truncated))
      .send(logs.text);
  });

  app.get<{ Params: { job: string } }>("/v1/jobs/:job/events", async (request) => {
    const found = await referenced(request.params.job, request.headers);
    if (found.kind === "federated") {
      const view = await federation!.view(found.id);
      return { job: found.id, events: view.events.map((event) => ({ ...event, kind: "federation" })) };
    }
    return { job: found.id, events: await readJobHistory(nc, found.cell, found.id) };
  });

  registerLiveStream(app, nc, ctx.cells);
  app.get("/ui", async (_request, reply) => reply.header("content-type", "text/html; charset=utf-8").send(sigmaPage(home, ctx.cells, federation !== undefined)));
  app.get("/", async (_request, reply) => reply.redirect("/ui"));

  app.get("/v1/nodes", async (request) => {
    const { cell } = validate(cellQuerySchema, request.query, "query");
    const target = cellNamed(ctx, cell, "cell");
    return callRpc(nc, subjects.api(target, "nodes"), listNodes, target, {}, ask);
  });

  app.get("/v1/cells", async () => {
    if (federation === undefined) throw new CorralError("not_found", `this gateway serves cell ${home} alone; corral cell status describes it`, "cells");
    return { cells: await federation.cellSummaries(), reconciler: (await federation.reconcilerHolder()) ?? null };
  });
}
