import { loadavg } from "node:os";
import { sleep } from "@corral/kit";
import { defineScenario } from "../scenario.js";
import { LoadFederation } from "../harness/load-federation.js";
import { timeAtRest } from "./federation/at-rest.js";
import { federationCharts } from "./federation/charts.js";
import { measureIdleCores } from "./federation/cpu-use.js";
import { FederationRun, leaderEpochs } from "./federation/federation-run.js";
import { federatedJobSource } from "./federation/job.js";
import { cellRoles, federationOptions } from "./federation/options.js";
import { federationOutcome } from "./federation/outcome.js";
import { placeJob } from "./federation/place-phase.js";
import { rebalanceBack } from "./federation/rebalance-phase.js";
import { loseCell } from "./federation/recovery-phase.js";

export const federation = defineScenario({
  name: "federation",
  description: "3 cells of hollow machines behind 2 gateways: time to place 10,000 federated replicas; time to recover a lost cell's share elsewhere, and to rebalance when it is back",
  options: federationOptions,
  async run(options) {
    const roles = cellRoles(options);
    const loadAverageAtStart = loadavg()[0]!; // before this run's own processes start
    const fed = await LoadFederation.start("federation", {
      cells: roles.cells,
      gateways: options.gateways,
      masters: options.masters,
      hollow: { processes: options.hollowProcesses, machinesEach: Math.ceil(options.machinesPerCell / options.hollowProcesses) },
      cellDownAfterMs: options.cellDownAfterMs,
      heartbeatMs: options.heartbeatMs,
      downAfterMs: options.heartbeatMs * 3,
      leaseTtlMs: options.leaseTtlMs,
    });
    try {
      const idleCores = await measureIdleCores(fed, options.idleS);
      const run = await FederationRun.begin(fed, options, roles);
      const source = federatedJobSource(roles.cells, options);
      const place = await placeJob(run, source);
      const atRest = await timeAtRest(run);
      await sleep(2000); // steady: let the reconciler see everything running
      const recovery = await loseCell(run, place.placed);
      const rebalance = options.rebalance ? await rebalanceBack(run, recovery.masters) : undefined;
      const epochsAtEnd = await leaderEpochs(fed, roles.cells);
      const charts = federationCharts(run, place, recovery, rebalance);
      return federationOutcome({ run, loadAverageAtStart, idleCores, source, place, atRest, recovery, rebalance, epochsAtEnd, charts, cpuAtEnd: fed.cpuSecondsByProcess() });
    } finally {
      await fed.stop();
    }
  },
});
