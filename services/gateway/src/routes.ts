import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { CorralError, jobStatus, killJob, listNodes, readLogs, standbyStatus, subjects, submitJob, type JobView } from "@corral/contracts";
import { callRpc, type NatsConnection } from "@corral/kit";
import { parseJobSpec } from "@corral/spec";
import { logsQuerySchema, requestIdFrom, requestUser, resolveJobId, submitBodySchema, userQuerySchema, validate } from "./requests.js";

/**
 * Per attempt, for requests a repeat cannot apply twice: a request that went to a leader
 * as it died is sent again after this long, which bounds what a failover costs a client.
 */
const IDEMPOTENT_ATTEMPT_MS = 1000;

export interface RouteContext {
  nc: NatsConnection;
  cell: string;
  /** how long a request waits for a leader during an election */
  leaderWaitMs: number;
}

/**
 * Job status from the leader; while there is none (a failover), from any standby's copy,
 * marked stale; if no standby answers either, wait for a leader after all.
 */
async function readJobs(ctx: RouteContext, query: { job?: string; user?: string }): Promise<{ jobs: JobView[]; stale: boolean; servedBy?: string }> {
  const { nc, cell } = ctx;
  try {
    return { ...(await callRpc(nc, subjects.api(cell, "status"), jobStatus, cell, query, { timeoutMs: 1500 })), stale: false };
  } catch (error) {
    if (!(error instanceof CorralError) || error.code !== "unavailable") throw error;
  }
  try {
    const copy = await callRpc(nc, subjects.read(cell, "status"), standbyStatus, cell, query, { timeoutMs: 1500 });
    return { jobs: copy.jobs, stale: true, servedBy: copy.replica };
  } catch (error) {
    if (!(error instanceof CorralError) || error.code !== "unavailable") throw error;
  }
  return { ...(await callRpc(nc, subjects.api(cell, "status"), jobStatus, cell, query, { timeoutMs: 5000, retryForMs: ctx.leaderWaitMs })), stale: false };
}

export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { nc, cell } = ctx;
  const ask = { timeoutMs: 5000, retryForMs: ctx.leaderWaitMs };

  app.get("/v1/healthz", async () => ({ ok: true, cell }));

  app.post("/v1/jobs", async (request, reply) => {
    const body = validate(submitBodySchema, request.body, "body");
    const spec =
      "spec" in body
        ? parseJobSpec(JSON.stringify(body.spec, null, 2), { file: "request.json", format: "json" })
        : parseJobSpec(body.source, body.format === undefined ? { file: body.file ?? "request.borg" } : { file: body.file ?? `request.${body.format}`, format: body.format });
    const user = spec.user ?? requestUser(request.headers);
    if (user === undefined) {
      throw new CorralError("bad_request", "the job has no user: set `user = 'alice'` in the spec or send the X-Corral-User header", "user");
    }
    // Safe to retry after a timeout (a dying leader): the request id makes a repeat a no-op.
    const requestId = requestIdFrom(request.headers);
    const result = await callRpc(nc, subjects.api(cell, "submit"), submitJob, cell, { spec, user, requestId }, { timeoutMs: IDEMPOTENT_ATTEMPT_MS, retryForMs: ctx.leaderWaitMs, idempotent: true });
    return reply.code(201).send(result);
  });

  app.get("/v1/jobs", async (request) => {
    const query = validate(userQuerySchema, request.query, "query");
    return readJobs(ctx, query.user === undefined ? {} : { user: query.user });
  });

  app.get<{ Params: { job: string } }>("/v1/jobs/:job", async (request) => {
    const id = resolveJobId(request.params.job, requestUser(request.headers), cell);
    const { jobs, stale, servedBy } = await readJobs(ctx, { job: id });
    if (jobs[0] === undefined) throw new CorralError("not_found", `no job ${id}`, "job");
    return servedBy === undefined ? { job: jobs[0], stale } : { job: jobs[0], stale, servedBy };
  });

  app.delete<{ Params: { job: string } }>("/v1/jobs/:job", async (request, reply) => {
    const id = resolveJobId(request.params.job, requestUser(request.headers), cell);
    // Killing a killed job changes nothing, so a kill is retried after a timeout too.
    const result = await callRpc(nc, subjects.api(cell, "kill"), killJob, cell, { job: id }, { timeoutMs: IDEMPOTENT_ATTEMPT_MS, retryForMs: ctx.leaderWaitMs, idempotent: true });
    return reply.code(202).send(result);
  });

  app.get<{ Params: { job: string; index: string } }>("/v1/jobs/:job/tasks/:index/logs", async (request, reply) => {
    const id = resolveJobId(request.params.job, requestUser(request.headers), cell);
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
    });
    return reply
      .header("content-type", "text/plain; charset=utf-8")
      .header("x-corral-log-size", String(logs.size))
      .header("x-corral-log-truncated", String(logs.truncated))
      .send(logs.text);
  });

  app.get("/v1/nodes", async () => callRpc(nc, subjects.api(cell, "nodes"), listNodes, cell, {}, ask));
}
