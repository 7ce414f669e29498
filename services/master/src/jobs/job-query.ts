// Status queries, answered alike from the leader's state and from a standby's copy, in bounded pages.
import { CorralError, parseSelector, selectorMatches, type JobQuery, type JobView } from "@corral/contracts";
import type { JobRecord } from "@corral/state";
import type { CellState } from "../state/cell-state.js";
import { jobCounts, jobView } from "./views.js";

/** Tasks per job in a list when the query does not say: enough for a table, bounded however big the job is. */
export const LIST_TASKS_PER_JOB = 100;

/**
 * Answers a status query from a state (the leader's, or a standby's copy): one job, or a
 * page of jobs in id order after `after`, each with a bounded slice of its tasks. Without a
 * limit a list holds every job (callers inside the cell; the gateway always pages).
 */
export function queryJobs(state: CellState, query: JobQuery): { jobs: JobView[]; next?: string } {
  const selector = query.selector === undefined ? undefined : parseSelector(query.selector);
  const wanted = (job: JobRecord) => (query.user === undefined || job.user === query.user) && (selector === undefined || selectorMatches(selector, job.spec.labels));
  const view = (job: JobRecord, tasksLimit: number | undefined) =>
    query.countsOnly === true ? jobCounts(job) : jobView(job, state, { from: query.tasksFrom ?? 0, ...(tasksLimit === undefined ? {} : { limit: tasksLimit }) });
  if (query.job !== undefined) {
    const job = state.jobs.get(query.job);
    if (job === undefined) throw new CorralError("not_found", `no job ${query.job}`, "job");
    return { jobs: wanted(job) ? [view(job, query.tasksLimit)] : [] };
  }
  const tasksLimit = query.tasksLimit ?? (query.limit === undefined ? undefined : LIST_TASKS_PER_JOB);
  const ids = state.jobIdsInOrder();
  const start = query.after === undefined ? 0 : firstAfter(ids, query.after);
  const jobs: JobView[] = [];
  for (let i = start; i < ids.length; i++) {
    const job = state.jobs.get(ids[i]!)!;
    if (!wanted(job)) continue;
    if (query.limit !== undefined && jobs.length === query.limit) return { jobs, next: jobs[jobs.length - 1]!.id };
    jobs.push(view(job, tasksLimit));
  }
  return { jobs };
}

/** The position of the first id after `after` in sorted `ids` (binary search). */
function firstAfter(ids: readonly string[], after: string): number {
  let low = 0;
  let high = ids.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ids[middle]! <= after) low = middle + 1;
    else high = middle;
  }
  return low;
}
