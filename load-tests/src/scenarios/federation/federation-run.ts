import type { LoadFederation } from "../../harness/load-federation.js";
import { sumOf } from "../../harness/stats.js";
import { cpuMark, type CpuMark } from "./cpu-use.js";
import type { FederationOptions } from "./options.js";
import { ViewPoller } from "./view-poller.js";

/** A phase's cost: CPU at its two ends, and the reconcile passes in between. */
export interface PhaseCost {
  marks: [CpuMark, CpuMark];
  passes: number;
  /** our processes' CPU seconds at the end, where the next phase's count starts */
  cpuAfter: Record<string, number>;
}

/** Each cell's leader epoch: one that changed outside the lost cell is a failover nobody caused. */
export async function leaderEpochs(fed: LoadFederation, cells: readonly string[]): Promise<Record<string, number>> {
  return Object.fromEntries(await Promise.all(cells.map(async (cell) => [cell, (await fed.leaderStats(cell)).epoch] as const)));
}

/** What every phase of the scenario works with: the federation, its cells' roles, and the view it polls. */
export class FederationRun {
  private constructor(
    readonly fed: LoadFederation,
    readonly options: FederationOptions,
    readonly cells: string[],
    readonly lose: string,
    readonly others: string[],
    /** the gateway holding the reconciler lease when the run began */
    readonly reconciler: string | null,
    readonly epochsAtStart: Record<string, number>,
    readonly poller: ViewPoller,
  ) {}

  static async begin(fed: LoadFederation, options: FederationOptions, roles: { cells: string[]; lose: string; others: string[] }): Promise<FederationRun> {
    const { reconciler } = await fed.cells(0);
    // Read the view through a gateway that does not reconcile, so polling does not slow the reconciler down.
    const pollGateway = fed.gateways.length > 1 && reconciler === "gateway-0" ? 1 : 0;
    const epochsAtStart = await leaderEpochs(fed, roles.cells);
    return new FederationRun(fed, options, roles.cells, roles.lose, roles.others, reconciler, epochsAtStart, new ViewPoller(fed, pollGateway, options));
  }

  /** How the polled gateway is named in the results. */
  get polledGateway(): string {
    return this.fed.gateways.length > 1 ? `gateway-${this.poller.gateway}` : "gateway";
  }

  /** Replicas running by the leaders' committed changes, every cell together. */
  runningByEvents(): number {
    return sumOf(this.fed.runningByEvents());
  }

  /** Starts counting a phase's cost; the function it returns ends the count. */
  async startPhase(): Promise<() => Promise<PhaseCost>> {
    const from = cpuMark(this.fed);
    const passesAtStart = await this.passes();
    return async () => {
      const cpuAfter = this.fed.cpuSecondsByProcess();
      const to = cpuMark(this.fed);
      return { marks: [from, to], passes: (await this.passes()) - passesAtStart, cpuAfter };
    };
  }

  private passes(): Promise<number> {
    return this.fed.metric(this.reconciler ?? "gateway", "corral_gateway_reconcile_passes_total");
  }
}
