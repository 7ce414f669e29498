import { readFile } from "node:fs/promises";
import { statSync } from "node:fs";
import { sleep } from "@corral/kit";
import { restartProcess, waitUntil, writeCellFile } from "@corral/launcher";
import { barChart } from "./charts.js";
import type { LoadCell } from "./load-cell.js";

/** A one-task job that fits anywhere: what a failover probe submits. */
export const tinyJob = (name: string) => `job ${name} = {\n  binary = 'hollow'\n  replicas = 1\n  requirements = { cpu = 0.01  ram = 16M }\n}\n`;

/**
 * SIGKILLs the cell's leader and times how long until a new leader has accepted a
 * submission (the gateway waits through the election); then restarts the killed master
 * and waits until it stands by again, so the next kill is not measured while five masters
 * on two cores load the state twice over. Each probe job it got acknowledged is passed to
 * `acknowledged`, for the caller's check that nothing acknowledged was lost.
 */
export async function killLeaderAndTime(cell: LoadCell, probe: string, acknowledged: (jobId: string) => void): Promise<number> {
  const leader = await cell.masterStats(false);
  const victim = cell.cell.processes.find((p) => p.name === leader.replica);
  if (victim === undefined) throw new Error(`no process for leader ${leader.replica}`);
  cell.kill9(victim.name);
  const killedAt = performance.now();
  // A name per attempt: an attempt the gateway gave up on may still have been committed,
  // and the same name again would be refused as existing, never acknowledged.
  for (let attempt = 0; ; attempt++) {
    const result = await cell.submit(tinyJob(`${probe}_${attempt}`)).catch(() => undefined);
    if (result?.job !== undefined) {
      acknowledged(result.job.id);
      break;
    }
    await sleep(10);
  }
  const tookMs = performance.now() - killedAt;
  const index = cell.cell.processes.indexOf(victim);
  const restarted = (cell.cell.processes[index] = await restartProcess(victim));
  writeCellFile(cell.cell);
  const logStart = statSync(restarted.log).size;
  await waitUntil(`${victim.name} to stand by again`, async () => (await readFile(restarted.log, "utf8")).slice(logStart).includes("standing by: following the change log"), 600_000, 100);
  return tookMs;
}

/** One bar per kill: how long each failover took. */
export function failoverChart(failoverMs: readonly number[]) {
  return barChart({
    title: "Leader SIGKILL → a new leader accepted a submission",
    xLabel: "kill",
    unit: "milliseconds",
    categories: failoverMs.map((_ms, i) => String(i + 1)),
    values: failoverMs.map((ms) => Math.round(ms)),
  });
}
