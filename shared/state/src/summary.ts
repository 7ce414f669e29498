import { decodeJobs } from "./job-records.js";
import { MACHINE_FIELD_PREFIX, SUBMISSION_FIELD_PREFIX } from "./records.js";

export interface RecordsSummary {
  jobs: number;
  killedJobs: number;
  tasks: number;
  tasksByState: Record<string, number>;
  jobsByUser: Record<string, number>;
  submissions: number;
  /** machines as the leader last knew them */
  machines: number;
  /** records this version cannot read, with why */
  unreadable: { field: string; error: string }[];
}

/** What a set of stored records holds, counted for people (`corral checkpoint inspect`). */
export function summarizeRecords(records: ReadonlyMap<string, Buffer>): RecordsSummary {
  const summary: RecordsSummary = { jobs: 0, killedJobs: 0, tasks: 0, tasksByState: {}, jobsByUser: {}, submissions: 0, machines: 0, unreadable: [] };
  for (const field of records.keys()) {
    if (field.startsWith(SUBMISSION_FIELD_PREFIX)) summary.submissions++;
    else if (field.startsWith(MACHINE_FIELD_PREFIX)) summary.machines++;
  }
  const jobs = decodeJobs(records, (field, error) => summary.unreadable.push({ field, error: error.message }));
  for (const job of jobs) {
    summary.jobs++;
    if (job.killed) summary.killedJobs++;
    summary.jobsByUser[job.user] = (summary.jobsByUser[job.user] ?? 0) + 1;
    for (const task of job.tasks) {
      summary.tasks++;
      summary.tasksByState[task.lifecycle.state] = (summary.tasksByState[task.lifecycle.state] ?? 0) + 1;
    }
  }
  return summary;
}
