import type { FastifyInstance, FastifyRequest } from "fastify";
import { controlRollout, CorralError, FEDERATION_LABEL, RESERVED_LABEL_PREFIX, federatedJobId, federationOf, jobId, jobRevisions, jobStatus, killJob, planJob, scaleJob, subjects, submitJob, updateJob, type JobSpec } from "@corral/contracts";
import { callRpc } from "@corral/kit";
import { parseJobSpec } from "@corral/spec";
import { killQuerySchema, requestIdFrom, scaleBodySchema, submitBodySchema, rolloutBodySchema, updateQuerySchema, validate } from "../requests.js";
import { authorizeJob, authorizeRunAsRoot, ownerForSubmission, ownerOf } from "../auth/authorization.js";
import { cellNamed, idempotentCall, leaderCall, referencedJob, type RouteContext } from "./route-context.js";

/** The spec and its owner from a submission body (a parsed spec, or source text in Borg, YAML or JSON); the caller must be allowed to `verb` it. */
function specFrom(request: FastifyRequest, verb: "submit" | "plan" | "update", home: string): { spec: JobSpec; user: string } {
  const body = validate(submitBodySchema, request.body, "body");
  const spec =
    "spec" in body
      ? parseJobSpec(specText(body.spec), { file: "request.json", format: "json" })
      : parseJobSpec(body.source, body.format === undefined ? { file: body.file ?? "request.borg" } : { file: body.file ?? `request.${body.format}`, format: body.format });
  // A user's job labelled as a federation's member would be hidden in the federated view.
  const reserved = Object.keys(spec.labels).find((key) => key.startsWith(RESERVED_LABEL_PREFIX));
  if (reserved !== undefined) throw new CorralError("bad_request", `labels: '${reserved}' is Corral's own (${RESERVED_LABEL_PREFIX}…); choose another key`, `labels.${reserved}`);
  const user = ownerForSubmission(request.identity, spec.user);
  request.auditTarget = federationOf(spec) === undefined ? jobId(spec.name, user, spec.runtime.cell ?? home) : federatedJobId(spec.name, user);
  authorizeJob(request.identity, verb, request.auditTarget);
  authorizeRunAsRoot(request.identity, spec.runAsRoot);
  return { spec, user };
}

/** A parsed spec back as text, for the parser that names lines; too deep to write back is the caller's to fix. */
function specText(spec: Record<string, unknown>): string {
  try {
    return JSON.stringify(spec, null, 2);
  } catch (error) {
    if (error instanceof RangeError) throw new CorralError("bad_request", "spec: values are nested too deep; a job spec nests at most 64 levels", "spec");
    throw error;
  }
}

/** What changes a job: plan (a dry run of it), submit, scale and kill. */
export function registerJobWrites(app: FastifyInstance, ctx: RouteContext): void {
  const { nc, cell: home, federation } = ctx;

  // Nomad's job plan: where the tasks would go and what would be preempted; nothing is committed.
  app.post("/v1/plan", async (request) => {
    const { spec, user } = specFrom(request, "plan", home);
    if (federationOf(spec) !== undefined) {
      throw new CorralError("bad_request", "runtime.cells: plan works on one cell; plan each cell's part with runtime = { cell = '<cell>' }", "runtime.cells");
    }
    const cell = cellNamed(ctx, spec.runtime.cell, "runtime.cell");
    return callRpc(nc, subjects.api(cell, "plan"), planJob, cell, { spec, user }, leaderCall(ctx));
  });

  app.post("/v1/jobs", async (request, reply) => {
    const { spec, user } = specFrom(request, "submit", home);
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
    const result = await callRpc(nc, subjects.api(cell, "submit"), submitJob, cell, { spec, user, requestId }, { ...idempotentCall(ctx, cell), trustResult: true });
    return reply.code(201).send(result);
  });

  // A job that exists moved to a new spec: in place, or by a rollout (`corral up`, `corral diff` with dry_run).
  app.put<{ Params: { job: string } }>("/v1/jobs/:job", async (request) => {
    const { dry_run: dryRun, force } = validate(updateQuerySchema, request.query, "query");
    const found = await referencedJob(ctx, request.params.job, request.identity);
    if (found.kind === "federated") throw new CorralError("bad_request", `${found.id} is a federated job; updating federated jobs is not supported yet: kill it and submit it again`, "job");
    const { spec, user } = specFrom(request, "update", home);
    if (user !== ownerOf(found.id)) throw new CorralError("bad_request", `the spec says user = '${user}', but job ${found.id} is ${ownerOf(found.id)}'s: a job's owner cannot change; submit it as a new job of ${user}`, "user");
    if (jobId(spec.name, user, spec.runtime.cell ?? found.cell) !== found.id) {
      throw new CorralError("bad_request", `the spec is of job ${jobId(spec.name, user, spec.runtime.cell ?? found.cell)}, not ${found.id}: the URL names the job the spec updates`, "name");
    }
    const requestId = requestIdFrom(request.headers);
    return callRpc(nc, subjects.api(found.cell, "update"), updateJob, found.cell, { job: found.id, spec, user, requestId, ...(dryRun ? { dryRun } : {}), ...(force ? { force } : {}) }, idempotentCall(ctx, found.cell));
  });

  // A user's say in a rollout: pause, resume, promote its canaries, or undo the latest revision.
  app.post<{ Params: { job: string } }>("/v1/jobs/:job/rollout", async (request) => {
    const found = await referencedJob(ctx, request.params.job, request.identity);
    request.auditTarget = found.id;
    authorizeJob(request.identity, "update", found.id);
    if (found.kind === "federated") throw new CorralError("bad_request", `${found.id} is a federated job, which has no rollouts yet`, "job");
    const { action, to_revision: toRevision } = validate(rolloutBodySchema, request.body, "body");
    return callRpc(nc, subjects.api(found.cell, "rollout"), controlRollout, found.cell, { job: found.id, user: request.identity.name, action, ...(toRevision === undefined ? {} : { toRevision }) }, leaderCall(ctx));
  });

  // A job's revisions, oldest first (`corral history`).
  app.get<{ Params: { job: string } }>("/v1/jobs/:job/revisions", async (request) => {
    const found = await referencedJob(ctx, request.params.job, request.identity, "read events of");
    if (found.kind === "federated") throw new CorralError("bad_request", `${found.id} is a federated job, which has no revisions yet`, "job");
    return callRpc(nc, subjects.api(found.cell, "revisions"), jobRevisions, found.cell, { job: found.id }, leaderCall(ctx));
  });

  // kubectl scale: a job's replica count, up or down; repeating it changes nothing.
  app.post<{ Params: { job: string } }>("/v1/jobs/:job/scale", async (request) => {
    const found = await referencedJob(ctx, request.params.job, request.identity);
    request.auditTarget = found.id;
    authorizeJob(request.identity, "scale", found.id);
    const { replicas } = validate(scaleBodySchema, request.body, "body");
    // A federated job's count is its record's: the reconciler takes it to the cells.
    if (found.kind === "federated") return { job: await found.federation.scale(found.id, replicas) };
    const { id, cell } = found;
    if (federation !== undefined) {
      // A member's count is the federation's to set: scaled here, it would be set back.
      const owner = (await callRpc(nc, subjects.api(cell, "status"), jobStatus, cell, { job: id, countsOnly: true }, leaderCall(ctx))).jobs[0]?.labels[FEDERATION_LABEL];
      if (owner !== undefined) throw new CorralError("bad_request", `${id} is cell ${cell}'s part of federated job ${owner}; scale that instead (corral scale ${owner} N)`, "job");
    }
    return callRpc(nc, subjects.api(cell, "scale"), scaleJob, cell, { job: id, replicas }, idempotentCall(ctx, cell));
  });

  app.delete<{ Params: { job: string } }>("/v1/jobs/:job", async (request, reply) => {
    const found = await referencedJob(ctx, request.params.job, request.identity);
    request.auditTarget = found.id;
    authorizeJob(request.identity, "kill", found.id);
    const { grace } = validate(killQuerySchema, request.query, "query");
    if (found.kind === "federated") {
      if (grace !== undefined) throw new CorralError("bad_request", "query: grace: a federated job's members stop with the job's own grace period; leave grace out", "query.grace");
      return reply.code(202).send({ job: await found.federation.kill(found.id) });
    }
    const { id, cell } = found;
    // Killing a killed job changes nothing, so a kill is retried after a timeout too.
    const result = await callRpc(nc, subjects.api(cell, "kill"), killJob, cell, grace === undefined ? { job: id } : { job: id, gracePeriodMs: grace }, idempotentCall(ctx, cell));
    return reply.code(202).send(result);
  });
}
