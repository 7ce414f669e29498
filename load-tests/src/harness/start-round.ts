import { jobId as jobIdOf, taskId, type JobView } from "@corral/contracts";
import { sleep } from "@corral/kit";
import { waitUntil } from "@corral/launcher";
import { LOAD_USER, type LoadCell } from "./load-cell.js";
import { distribution, type Distribution } from "./stats.js";

/** When each task of one submission got there, in ms after the submission was sent; undefined: never. */
export interface RoundTimes {
  /** the leader committed the task as running (its borglet reported the process or container started) */
  running: (number | undefined)[];
  /** the task's first port answered an HTTP GET with the expected page */
  answering: (number | undefined)[];
}

export interface RoundSummary {
  /** until the last task was running; NaN if some never were */
  all_running_s: number;
  all_answering_s: number;
  start_ms: Distribution;
  answer_ms: Distribution;
}

function reached(values: readonly (number | undefined)[]): number[] {
  return values.filter((value): value is number => value !== undefined);
}

function lastOfAll(values: readonly (number | undefined)[]): number {
  const known = reached(values);
  return known.length === values.length && known.length > 0 ? Math.max(...known) / 1000 : Number.NaN;
}

export function summarizeRound(times: RoundTimes): RoundSummary {
  return {
    all_running_s: lastOfAll(times.running),
    all_answering_s: lastOfAll(times.answering),
    start_ms: distribution(reached(times.running)),
    answer_ms: distribution(reached(times.answering)),
  };
}

/** How many tasks had got there over time, as a step line in seconds, for charts. */
export function reachedOverTime(values: readonly (number | undefined)[]): { x: number; y: number }[] {
  const sorted = reached(values).sort((a, b) => a - b);
  const points = [{ x: 0, y: 0 }];
  sorted.forEach((ms, index) => points.push({ x: ms / 1000, y: index }, { x: ms / 1000, y: index + 1 }));
  return points;
}

export interface RoundOptions {
  /** the job's name, which the source declares */
  name: string;
  /** the job in Borg syntax */
  source: string;
  replicas: number;
  /** what every task serves at / */
  page: string;
  timeoutMs: number;
  /** told the job's id as soon as it is accepted, so it can be killed whatever happens next */
  onSubmitted?: (jobId: string) => void;
  /** how often the job's view is read for the tasks' ports */
  viewEveryMs?: number;
  /** how often a task that does not answer yet is asked again */
  probeEveryMs?: number;
}

export interface Round {
  jobId: string;
  /** when the submission was sent (epoch ms) */
  submittedAt: number;
  times: RoundTimes;
  /** the job once every task answered */
  view: JobView;
}

/** The first time the timeline saw the task running, in any incarnation. */
function firstRunning(cell: LoadCell, taskId: string): number | undefined {
  let first: number | undefined;
  for (const [key, at] of cell.timeline.firstSeen.get(taskId) ?? []) {
    if (key.startsWith("running#") && (first === undefined || at < first)) first = at;
  }
  return first;
}

/**
 * Submits one job of web servers and times each task from the submission until it is
 * running (the leader's committed change) and until it answers HTTP on its port. Ports
 * come from the job's view, read every `viewEveryMs`; a task is asked every
 * `probeEveryMs` once it runs and its port is known, so answering times are good to about
 * the larger of the two.
 */
export async function runRound(cell: LoadCell, options: RoundOptions): Promise<Round> {
  const { replicas, timeoutMs } = options;
  const taskIds = Array.from({ length: replicas }, (_, index) => taskId(index, jobIdOf(options.name, LOAD_USER, cell.cell.cell)));
  const times: RoundTimes = { running: new Array<undefined>(replicas).fill(undefined), answering: new Array<undefined>(replicas).fill(undefined) };
  const addresses = new Map<number, string>();
  const deadline = Date.now() + timeoutMs;

  const submittedAt = Date.now();
  const submitted = await cell.submit(options.source);
  if (submitted.status !== 201 || submitted.job === undefined) throw new Error(`${options.name}: submit refused (${submitted.status}): ${submitted.error}`);
  const jobId = submitted.job.id;
  options.onSubmitted?.(jobId);

  const allRunning = cell.timeline.until(
    () => {
      taskIds.forEach((id, index) => {
        const at = times.running[index] === undefined ? firstRunning(cell, id) : undefined;
        if (at !== undefined) times.running[index] = Math.max(0, at - submittedAt);
      });
      return times.running.every((at) => at !== undefined);
    },
    timeoutMs,
    `${replicas} tasks of ${options.name} running`,
  );

  /** set when waiting is given up, so the watcher and the probes end */
  let stopped = false;
  const probe = async (index: number): Promise<void> => {
    while (!stopped && Date.now() < deadline) {
      try {
        const response = await fetch(`http://${addresses.get(index)}/`, { signal: AbortSignal.timeout(2000) });
        const text = await response.text();
        if (response.ok && text === options.page) {
          times.answering[index] = Date.now() - submittedAt;
          return;
        }
      } catch {
        // not listening yet
      }
      await sleep(options.probeEveryMs ?? 20);
    }
  };

  const probes: Promise<void>[] = [];
  let view: JobView | undefined;
  const watcher = (async () => {
    while (!stopped && Date.now() < deadline && !times.answering.every((at) => at !== undefined)) {
      view = (await cell.job(jobId).catch(() => undefined)) ?? view;
      for (const task of view?.tasks ?? []) {
        // Asked only once it runs: ports are known from the placement on, and 200 tasks asked
        // every 20 ms while their containers start cost the machine more than the starts.
        if (task.host === undefined || task.port === undefined || times.running[task.index] === undefined) continue;
        const known = addresses.has(task.index);
        addresses.set(task.index, `${task.host}:${task.port}`); // a restarted task may have moved
        if (!known) probes.push(probe(task.index));
      }
      await sleep(options.viewEveryMs ?? 100);
    }
  })();

  /** What the job's tasks are doing, and why the unlucky ones are not running, for an error. */
  const situation = () => {
    const states = Object.entries(view?.summary ?? {}).filter(([, count]) => count > 0).map(([state, count]) => `${count} ${state}`).join(", ");
    const reason = (view?.tasks ?? []).find((task) => task.reason !== undefined)?.reason;
    return `${states === "" ? "no view of the job" : states}${reason === undefined ? "" : `; one task's reason: ${reason}`}`;
  };
  try {
    await allRunning;
  } catch {
    stopped = true;
    await watcher;
    await Promise.all(probes);
    const running = reached(times.running).length;
    throw new Error(`${options.name}: only ${running} of ${replicas} tasks were running after ${timeoutMs} ms (${situation()})`);
  }
  await watcher;
  await Promise.all(probes);
  const answered = reached(times.answering).length;
  if (answered < replicas) throw new Error(`${options.name}: only ${answered} of ${replicas} tasks answered HTTP within ${timeoutMs} ms (${situation()})`);
  const final = await cell.job(jobId);
  if (final === undefined) throw new Error(`${options.name}: job ${jobId} vanished`);
  return { jobId, submittedAt, times, view: final };
}

/** Kills the job at once (no grace period) and waits until every task is dead and so its process or container gone. */
export async function killAndWait(cell: LoadCell, jobId: string, timeoutMs: number): Promise<void> {
  const status = await cell.kill(jobId, "0s");
  if (status >= 300 && status !== 404) throw new Error(`kill ${jobId}: HTTP ${status}`);
  await waitUntil(
    `every task of ${jobId} dead`,
    async () => {
      const view = await cell.job(jobId);
      return view === undefined || view.tasks.every((task) => task.state === "dead");
    },
    timeoutMs,
    100,
  );
}
