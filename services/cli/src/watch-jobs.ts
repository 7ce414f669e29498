import type { JobView } from "@corral/contracts";

const POLL_MS = 500;

interface TaskSeen {
  state: string;
  incarnation: number;
  node?: string;
}

/** Each task's change since the last look, as a line for people or a JSON object for scripts. */
export function taskChangesBetween(before: ReadonlyMap<string, TaskSeen>, jobs: readonly JobView[]): { task: string; from?: string; to: string; node?: string; reason?: string; incarnation: number }[] {
  const changes: { task: string; from?: string; to: string; node?: string; reason?: string; incarnation: number }[] = [];
  for (const job of jobs) {
    for (const task of job.tasks) {
      const seen = before.get(task.id);
      if (seen !== undefined && seen.state === task.state && seen.incarnation === task.incarnation && seen.node === task.node) continue;
      changes.push({
        task: task.id,
        ...(seen === undefined ? {} : { from: seen.state }),
        to: task.state,
        incarnation: task.incarnation,
        ...(task.node === undefined ? {} : { node: task.node }),
        ...(task.reason === undefined ? {} : { reason: task.reason }),
      });
    }
  }
  return changes;
}

/**
 * `corral ps --watch`: after the table, one line per task change as it happens (as
 * `kubectl get -w` does), until interrupted.
 */
export async function watchJobs(read: () => Promise<readonly JobView[]>, json: boolean, initial: readonly JobView[]): Promise<never> {
  let seen = snapshot(initial);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    let jobs: readonly JobView[];
    try {
      jobs = await read();
    } catch (error) {
      process.stderr.write(`corral: ${(error as Error).message}; still watching\n`);
      continue;
    }
    for (const change of taskChangesBetween(seen, jobs)) {
      const time = new Date().toISOString().slice(11, 23);
      process.stdout.write(
        json
          ? `${JSON.stringify({ at: Date.now(), ...change })}\n`
          : `${time}  ${change.task}  ${change.from === undefined ? "" : `${change.from} → `}${change.to}${change.node === undefined ? "" : ` on ${change.node}`}${change.reason === undefined ? "" : `  (${change.reason})`}\n`,
      );
    }
    seen = snapshot(jobs);
  }
}

function snapshot(jobs: readonly JobView[]): Map<string, TaskSeen> {
  const map = new Map<string, TaskSeen>();
  for (const job of jobs) for (const task of job.tasks) map.set(task.id, { state: task.state, incarnation: task.incarnation, ...(task.node === undefined ? {} : { node: task.node }) });
  return map;
}
