import { z } from "zod";

/** What a job's history says happened (Borg's per-job events; `corral events JOB`). */
export const HISTORY_KINDS = ["submitted", "updated", "rollout", "scaled", "killed", "scheduled", "started", "restarting", "lost", "preempted", "evicted", "stopping", "dead", "healthy", "unhealthy"] as const;

export const historyEntrySchema = z.object({
  at: z.number(),
  kind: z.enum(HISTORY_KINDS),
  /** the task it concerns; absent for the job's own events */
  task: z.number().int().nonnegative().optional(),
  incarnation: z.number().int().nonnegative().optional(),
  node: z.string().optional(),
  /** for people: "scheduled on borglet-1", "preempted by 0.urgent.alice.local" */
  text: z.string().max(2048),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/** One message on a job's history subject: the entries of one commit. */
export const historyBatchSchema = z.object({ job: z.string(), entries: z.array(historyEntrySchema).max(100_000) });
export type HistoryBatch = z.infer<typeof historyBatchSchema>;

/** The stream that keeps every job's history in a cell. */
export function historyStream(cell: string): string {
  return `corral_${cell}_history`;
}

/** Messages kept per job (each holds one commit's entries): enough for the story, bounded for a crash-looping task. */
export const HISTORY_MESSAGES_PER_JOB = 200;
