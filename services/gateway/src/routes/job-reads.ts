import type { FastifyInstance } from "fastify";
import { CorralError, FEDERATION_LABEL, MAX_TASKS_PAGE, jobStatus, parseSelector, standbyStatus, subjects, whyPending, type FederatedJobView, type JobQuery, type JobView, type SelectorTerm } from "@corral/contracts";
import { callRpc, readJobHistory } from "@corral/kit";
import type { Federation } from "../federation/federation.js";
import { DEFAULT_JOBS_PAGE, jobQuerySchema, userQuerySchema, validate } from "../requests.js";
import { pageToken, readPageToken } from "../page-token.js";
import { cellJob, leaderCall, referencedJob, type RouteContext } from "./route-context.js";

interface JobsAnswer {
  jobs: JobView[];
  next?: string;
  stale: boolean;
  servedBy?: string;
}

/**
 * Job status from the leader; while there is none (a failover), from any standby's copy,
 * marked stale; if no standby answers either, wait for a leader after all.
 */
async function readJobs(ctx: RouteContext, cell: string, query: JobQuery, waitForLeader = true): Promise<JobsAnswer> {
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

/** Where the next page starts, as a token the client sends back unread. */
const onward = (next: string | undefined) => (next === undefined ? {} : { continue: pageToken({ after: next }) });

/**
 * One federated view: every cell's jobs merged in id order, a federated job once (not as
 * its members). One cell in trouble is reported as unreachable: it may neither fail nor
 * hold up the whole list.
 */
async function federatedJobList(ctx: RouteContext, federation: Federation, ask: JobQuery & { limit: number }, user: string | undefined, selector: SelectorTerm[] | undefined) {
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
  const page = merged.slice(0, ask.limit);
  const more = merged.length > ask.limit || pages.some((answer) => answer.next !== undefined);
  const jobs = page.filter((job) => job.labels[FEDERATION_LABEL] === undefined);
  // Federated jobs are few and kept apart: they come whole with the first page.
  const federated: FederatedJobView[] = ask.after === undefined ? await federation.list(user, new Set(unreachable), selector) : [];
  return { jobs, federated, stale, unreachable: unreachable.sort(), ...onward(more ? page[page.length - 1]?.id : undefined) };
}

/** What a job is and has done: the job list, one job with its tasks, why it is pending, its events. */
export function registerJobReads(app: FastifyInstance, ctx: RouteContext): void {
  const { nc } = ctx;

  // Paged by job id (Kubernetes' limit and continue): no answer grows with the cell.
  app.get("/v1/jobs", async (request) => {
    const query = validate(userQuerySchema, request.query, "query");
    // Checked before anything is asked of the leader: a bad selector is the caller's to fix.
    const selector = query.selector === undefined ? undefined : parseSelector(query.selector);
    const after = query.continue === undefined ? undefined : readPageToken(query.continue, "after").after;
    const limit = query.limit ?? DEFAULT_JOBS_PAGE;
    const ask = { limit, ...(query.user === undefined ? {} : { user: query.user }), ...(query.selector === undefined ? {} : { selector: query.selector }), ...(after === undefined ? {} : { after }) };
    if (ctx.federation !== undefined) return federatedJobList(ctx, ctx.federation, ask, query.user, selector);
    const { next, ...answer } = await readJobs(ctx, ctx.cell, ask);
    return { ...answer, ...onward(next) };
  });

  // A job's tasks come a page at a time (?limit, up to 10,000; ?continue from the last page's answer).
  app.get<{ Params: { job: string } }>("/v1/jobs/:job", async (request) => {
    const query = validate(jobQuerySchema, request.query, "query");
    const found = await referencedJob(ctx, request.params.job, request.identity);
    if (found.kind === "federated") return { job: await found.federation.view(found.id), stale: false };
    const tasksFrom = query.continue === undefined ? 0 : readPageToken(query.continue, "tasksFrom").tasksFrom;
    const { jobs, stale, servedBy } = await readJobs(ctx, found.cell, { job: found.id, tasksFrom, tasksLimit: query.limit ?? MAX_TASKS_PAGE });
    const job = jobs[0];
    if (job === undefined) throw new CorralError("not_found", `no job ${found.id}`, "job");
    const more = job.moreTasksFrom === undefined ? {} : { continue: pageToken({ tasksFrom: job.moreTasksFrom }) };
    return servedBy === undefined ? { job, stale, ...more } : { job, stale, servedBy, ...more };
  });

  app.get<{ Params: { job: string } }>("/v1/jobs/:job/why", async (request) => {
    const { id, cell } = await cellJob(ctx, request.params.job, request.identity, "ask why of", "why");
    return callRpc(nc, subjects.api(cell, "why"), whyPending, cell, { job: id }, leaderCall(ctx));
  });

  app.get<{ Params: { job: string } }>("/v1/jobs/:job/events", async (request) => {
    const found = await referencedJob(ctx, request.params.job, request.identity, "read events of");
    if (found.kind === "federated") {
      const view = await found.federation.view(found.id);
      return { job: found.id, events: view.events.map((event) => ({ ...event, kind: "federation" })) };
    }
    return { job: found.id, events: await readJobHistory(nc, found.cell, found.id) };
  });
}
