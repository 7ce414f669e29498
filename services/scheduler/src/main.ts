import { z } from "zod";
import { CorralError, fetchWork, schedulerKick, subjects, submitPlan } from "@corral/contracts";
import { callRpc, flag, parsedFlag, seededRandom, startService, subscribeEvents } from "@corral/kit";
import { parseDuration } from "@corral/spec";
import { planRound } from "./plan-round.js";
import { SchedulerMetrics } from "./scheduler-metrics.js";

const { flags, log, metrics, nc, onStop } = await startService({
  service: "scheduler",
  summary: "A Corral scheduler: asks the leading master for pending tasks and free machines, places the tasks, and sends the plan back for the leader to apply.",
  name: { help: "this scheduler's name in logs and plans", default: "scheduler-0" },
  flags: {
    batch: flag("pending tasks asked for per pass", z.coerce.number().int("a whole number, like 2000").min(1).max(1_000_000), { default: "2000" }),
    poll: flag("how often to look for work without being woken", parsedFlag(parseDuration).refine((ms) => ms >= 10 && ms <= 60_000, "between 10ms and 60s"), { default: "1s" }),
    seed: flag("the seed of the random sample of machines each pass scores", z.coerce.number().int("a whole number"), { default: String(process.pid), defaultShown: "the process id" }),
  },
  logFields: (flags) => ({ scheduler: flags.name }),
  connectionName: (flags) => `${flags.name}@${flags.cell}`,
});
const schedulerMetrics = new SchedulerMetrics(metrics.registry);
const random = seededRandom(flags.seed);

/** the leader looks at a few of them per plan anyway */
const MAX_UNPLACED_REPORTED = 100;
/** bounds one wake-up's work, so a plan the leader keeps refusing cannot spin; the poll retries */
const MAX_PASSES_PER_WAKE_UP = 20;
let running = false;
let again = false;
let stopping = false;

/**
 * One scheduling pass: fetch pending work and free capacity from the leader, place, send
 * the plan; repeat while the leader committed something and work remains. A kick during a
 * pass makes one more pass afterwards, so no wake-up is lost.
 */
async function schedule(): Promise<void> {
  if (running) {
    again = true;
    return;
  }
  running = true;
  let passes = 0;
  try {
    do {
      passes += 1;
      again = false;
      const fetchedAt = performance.now();
      // Trusted: the leader built it from its own typed state, and validating thousands of machines per fetch was a third of this process's cpu.
      const work = await callRpc(nc, subjects.schedWork(flags.cell), fetchWork, flags.cell, { scheduler: flags.name, limit: flags.batch }, { trustResult: true });
      if (work.tasks.length === 0) break;
      const round = planRound(work, { random, explain: log.isLevelEnabled("debug") });
      for (const { task, refusals } of round.unplaced) log.debug({ job: task.job, task: task.taskId, refusals }, "no machine fits");
      // Unplaced tasks go too: the leader, which sees the whole cell, may preempt for them.
      const unplaced = round.unplaced.slice(0, MAX_UNPLACED_REPORTED).map(({ task }) => task.taskId);
      if (round.placements.length === 0 && unplaced.length === 0) break;
      const result = await callRpc(nc, subjects.schedPlan(flags.cell), submitPlan, flags.cell, {
        scheduler: flags.name,
        epoch: work.epoch,
        placements: round.placements,
        unplaced,
      });
      schedulerMetrics.roundSeconds.observe((performance.now() - fetchedAt) / 1000);
      schedulerMetrics.placements.inc(result.committed);
      schedulerMetrics.rejections.inc(result.rejected.length);
      schedulerMetrics.unplaced.inc(round.unplaced.length);
      // Debug: several passes a second under load; the metrics above count them.
      log.debug({ placed: result.committed, rejected: result.rejected.length, unplaced: round.unplaced.length, preempted: result.preempted ?? 0 }, "plan committed");
      if (result.committed > 0 && work.tasks.length > round.placements.length - result.rejected.length) again = true;
      if (result.rejected.length > 0) again = true;
    } while (again && !stopping && passes < MAX_PASSES_PER_WAKE_UP);
  } catch (error) {
    const quiet = error instanceof CorralError && (error.code === "unavailable" || error.code === "stale_epoch");
    if (quiet) log.debug({ err: error.message }, "no leader to schedule for right now");
    else log.error({ err: (error as Error).message }, "scheduling pass failed");
  } finally {
    running = false;
  }
}

// A kick while a pass runs only asks for one more pass (see schedule()), so a burst of
// submissions is served by a few snapshots; an idle scheduler answers a kick at once.
subscribeEvents(nc, subjects.schedKick(flags.cell), schedulerKick, flags.cell, log, () => {
  void schedule();
});
const poll = setInterval(() => void schedule(), flags.poll);

onStop(() => {
  stopping = true;
  clearInterval(poll);
});
log.info({ nats: flags.nats }, "scheduler started");
void schedule();
