import type { FederatedJobView } from "@corral/contracts";
import { sleep } from "@corral/kit";
import type { LoadFederation } from "../../harness/load-federation.js";
import { FEDERATED_ID } from "./job.js";

/** One look at the federated job through a gateway's view. */
export interface ViewSample {
  /** seconds since the phase began, when the answer arrived */
  t: number;
  /** how long the gateway took to answer */
  ms: number;
  running: Record<string, number>;
  assigned: Record<string, number>;
  reachable: Record<string, boolean>;
}

function sampleOf(job: FederatedJobView, t: number, ms: number): ViewSample {
  const running: Record<string, number> = {};
  const assigned: Record<string, number> = {};
  const reachable: Record<string, boolean> = {};
  for (const cell of job.cells) {
    running[cell.cell] = cell.running;
    assigned[cell.cell] = cell.assigned;
    reachable[cell.cell] = cell.reachable;
  }
  return { t, ms, running, assigned, reachable };
}

export interface PolledView {
  samples: ViewSample[];
  /** the view that ended the wait */
  job: FederatedJobView;
  /** performance.now() when it arrived */
  at: number;
}

/**
 * Reads the federated job's view through one gateway, phase after phase, and keeps how long
 * every answer took and how big it was, for the whole run.
 */
export class ViewPoller {
  /** every answer's time, with seconds since the run began */
  readonly viewMs: { t: number; ms: number }[] = [];
  readonly viewBytes: number[] = [];
  private readonly runStarted = performance.now();

  constructor(
    private readonly fed: LoadFederation,
    /** one that does not reconcile, where there is one, so polling does not slow the reconciler down */
    readonly gateway: number,
    private readonly options: { pollMs: number; timeoutS: number },
  ) {}

  /** Reads the view every pollMs until `done` holds; every sample, with seconds since `since`. */
  async until(what: string, since: number, done: (sample: ViewSample, job: FederatedJobView) => boolean, onSample?: (sample: ViewSample) => void): Promise<PolledView> {
    const samples: ViewSample[] = [];
    const deadline = since + this.options.timeoutS * 1000;
    for (;;) {
      const sent = performance.now();
      const got = await this.fed.view(FEDERATED_ID, this.gateway).catch((error: unknown) => {
        process.stderr.write(`  view failed: ${(error as Error).message}\n`);
        return undefined;
      });
      if (got !== undefined) {
        const now = performance.now();
        const sample = sampleOf(got.job, (now - since) / 1000, got.ms);
        samples.push(sample);
        this.viewMs.push({ t: (now - this.runStarted) / 1000, ms: got.ms });
        this.viewBytes.push(got.bytes);
        onSample?.(sample);
        if (done(sample, got.job)) return { samples, job: got.job, at: now };
      }
      if (performance.now() > deadline) {
        await this.diagnose();
        const last = samples.at(-1);
        throw new Error(`timed out after ${this.options.timeoutS} s waiting for ${what}; last seen: running ${JSON.stringify(last?.running)}, assigned ${JSON.stringify(last?.assigned)}`);
      }
      await sleep(Math.max(0, this.options.pollMs - (performance.now() - sent)));
    }
  }

  /** What every gateway sees when a phase stalls: cell health, the reconciler, and its view of the job. */
  private async diagnose(): Promise<void> {
    for (const [index, url] of this.fed.gateways.entries()) {
      const health = await this.fed.cells(index).then(
        (answer) => `reconciler ${answer.reconciler}; ${answer.cells.map((cell) => `${cell.cell} ${cell.health} (answered ${cell.lastAnsweredAgoMs} ms ago)`).join(", ")}`,
        (error: unknown) => `no answer: ${(error as Error).message}`,
      );
      const view = await this.fed.view(FEDERATED_ID, index).then(
        ({ job }) => `cells ${JSON.stringify(job.cells)}; last events ${JSON.stringify(job.events.slice(-3))}`,
        (error: unknown) => `no answer: ${(error as Error).message}`,
      );
      process.stderr.write(`  stalled; ${url}: ${health}\n    ${view}\n`);
    }
  }
}

/** A progress line every 5 s of a phase. */
export function progressLine(label: string): (sample: ViewSample) => void {
  let logged = -Infinity;
  return (sample: ViewSample) => {
    if (sample.t - logged < 5) return;
    logged = sample.t;
    process.stderr.write(`  ${label} ${sample.t.toFixed(1)} s: running ${JSON.stringify(sample.running)}, assigned ${JSON.stringify(sample.assigned)}, view ${Math.round(sample.ms)} ms\n`);
  };
}
