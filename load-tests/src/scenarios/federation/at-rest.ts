import { jobId, jobStatus, subjects } from "@corral/contracts";
import { callRpc } from "@corral/kit";
import { LOAD_USER } from "../../harness/load-cell.js";
import type { FederationRun } from "./federation-run.js";
import { FEDERATED_ID, JOB } from "./job.js";

/** Ten timings of each, with the job placed and nothing else going on. */
export interface AtRestTimes {
  /** what one reconcile pass asks of each cell: the member job's whole status */
  memberStatusMs: Record<string, number[]>;
  /** the view's own cost, apart from the machine being busy */
  steadyViewMs: number[];
}

export async function timeAtRest(run: FederationRun): Promise<AtRestTimes> {
  const { fed, cells } = run;
  const memberStatusMs: Record<string, number[]> = {};
  for (const cell of cells) {
    memberStatusMs[cell] = [];
    for (let i = 0; i < 10; i++) {
      const sent = performance.now();
      await callRpc(fed.nc, subjects.api(cell, "status"), jobStatus, cell, { job: jobId(JOB, LOAD_USER, cell) }, { timeoutMs: 10_000 });
      memberStatusMs[cell].push(performance.now() - sent);
    }
  }
  const steadyViewMs: number[] = [];
  for (let i = 0; i < 10; i++) steadyViewMs.push((await fed.view(FEDERATED_ID, run.poller.gateway)).ms);
  return { memberStatusMs, steadyViewMs };
}
