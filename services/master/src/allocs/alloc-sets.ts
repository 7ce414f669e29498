// What makes a job an alloc set, or a job that runs in one. Asked by the state's index on every
// task change and by most handlers, so it depends on nothing but the job record.
import type { JobRecord } from "@corral/state";

/** An alloc set's tasks are allocs: reservations on a machine, with no process behind them. */
export function isAlloc(job: JobRecord): boolean {
  return job.spec.kind === "alloc";
}

/** A job whose tasks run inside an alloc set's reservations rather than on a machine's free capacity. */
export function runsInAllocSet(job: JobRecord): boolean {
  return job.spec.allocSet !== undefined;
}

/** The alloc set a job runs in: same user, same cell. */
export function allocSetIdOf(job: JobRecord): string | undefined {
  return job.spec.allocSet === undefined ? undefined : `${job.spec.allocSet}.${job.user}.${job.cell}`;
}
