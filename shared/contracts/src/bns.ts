import { z } from "zod";
import { TASK_STATES } from "./task-state.js";

/**
 * Borg's name service: every task is `<index>.<job>.<user>.<cell>.corral`, and the job
 * itself `<job>.<user>.<cell>.corral`. The leader keeps one record per job in a NATS KV
 * bucket (Borg writes them to Chubby); the gateway's DNS server and anyone else can watch it.
 */
export const BNS_DOMAIN = "corral";

export function bnsBucket(cell: string): string {
  return `corral_${cell}_names`;
}

/** The KV key of a job's record: its DNS name, which KV's key rules accept as it is. */
export function bnsJobName(job: string, user: string, cell: string): string {
  return `${job}.${user}.${cell}.${BNS_DOMAIN}`;
}

export const bnsTaskSchema = z.object({
  index: z.number().int().nonnegative(),
  state: z.enum(TASK_STATES),
  node: z.string().optional(),
  host: z.string().optional(),
  /** the task's ports: `port` is the first */
  ports: z.array(z.number().int().min(1).max(65535)),
  health: z.enum(["healthy", "unhealthy", "unknown"]).optional(),
});
export type BnsTask = z.infer<typeof bnsTaskSchema>;

export const bnsRecordSchema = z.object({
  job: z.string(),
  user: z.string(),
  cell: z.string(),
  /** how many tasks the job asks for */
  size: z.number().int().nonnegative(),
  /** indices of the tasks running and not known to be unhealthy: what the job's name resolves to */
  healthy: z.array(z.number().int().nonnegative()),
  tasks: z.array(bnsTaskSchema),
  updatedAt: z.number(),
});
export type BnsRecord = z.infer<typeof bnsRecordSchema>;
