import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { leaseSchema } from "@corral/contracts";

/**
 * What a borglet writes down about each task it starts, so that a borglet started again
 * (after a crash or an upgrade) finds the tasks still running and adopts them, and `cell
 * down` finds every process the cell left behind. `pid`/`startTime` is the process group
 * to signal: the task itself (host runtime) or its runc supervisor (isolated runtime).
 */
export const taskRecordSchema = z.object({
  taskId: z.string(),
  incarnation: z.number().int(),
  pid: z.number().int().positive(),
  startTime: z.number(),
  lease: leaseSchema,
  runtime: z.enum(["host", "isolated"]),
  /** isolated: the container's init, its runc id, and its bundle (with the task's root under fs/) */
  container: z.object({ pid: z.number().int().positive(), startTime: z.number(), id: z.string(), bundle: z.string(), cgroupPath: z.string() }).optional(),
});
export type TaskRecordFile = z.infer<typeof taskRecordSchema>;

export function writeTaskRecord(path: string, record: TaskRecordFile): void {
  writeFileSync(path, JSON.stringify(record));
}

/** A newer incarnation of the task may have written the record since: leave that one alone. */
export function removeTaskRecordIfOurs(path: string, pid: number): void {
  try {
    const record = JSON.parse(readFileSync(path, "utf8")) as { pid?: unknown };
    if (record.pid === pid) rmSync(path, { force: true });
  } catch {
    // already gone
  }
}

/** Every readable record under the borglet's data directory; unreadable ones are reported, not trusted. */
export function readTaskRecords(dataDir: string): { records: { path: string; record: TaskRecordFile }[]; unreadable: string[] } {
  const dir = join(dataDir, "tasks");
  const records: { path: string; record: TaskRecordFile }[] = [];
  const unreadable: string[] = [];
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((file) => file.endsWith(".json"));
  } catch {
    return { records, unreadable };
  }
  for (const file of files) {
    const path = join(dir, file);
    try {
      records.push({ path, record: taskRecordSchema.parse(JSON.parse(readFileSync(path, "utf8"))) });
    } catch {
      unreadable.push(path);
    }
  }
  return { records, unreadable };
}
