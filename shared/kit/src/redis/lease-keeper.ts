import type { Worker } from "node:worker_threads";
import { siblingModule, startTypeScriptWorker } from "../threads/typescript-worker.js";
import { LEASE_SLOTS, LeaseSlots, NO_SLACK_MEASURED, type LeaseKeeperOptions } from "./lease-keeper-slots.js";

/**
 * Keeps the leader lease renewed from a worker thread (see lease-keeper-worker.ts) while
 * this thread leads. The main thread reads here whether it may still act.
 */
export class LeaseKeeper {
  private readonly slots = new LeaseSlots();
  private readonly worker: Worker;
  private readonly pulse: NodeJS.Timeout;
  /** Settles once the worker runs: a master must not lead before its lease can be renewed. */
  readonly ready: Promise<void>;

  private readonly stepDownAfterMs: number;

  constructor(options: Omit<LeaseKeeperOptions, "slots">) {
    this.stepDownAfterMs = options.stepDownAfterMs;
    this.slots.set(LEASE_SLOTS.pulseAt, Date.now());
    this.slots.set(LEASE_SLOTS.minSlackMs, NO_SLACK_MEASURED);
    this.worker = startTypeScriptWorker(siblingModule("lease-keeper-worker", import.meta.url), { ...options, slots: this.slots.buffer });
    this.worker.unref();
    this.ready = new Promise((resolve, reject) => {
      this.worker.once("message", () => resolve());
      this.worker.once("error", reject);
      this.worker.once("exit", (code) => reject(new Error(`the lease keeper's worker exited with code ${code} before it started`)));
    });
    const beat = Math.max(10, Math.floor(options.stallToleranceMs / 10));
    this.pulse = setInterval(() => {
      this.slots.set(LEASE_SLOTS.pulseAt, Date.now());
    }, beat);
    this.pulse.unref();
  }

  /** Renew for this epoch, counting it as renewed at `acquiredAt` (when the lease was asked for). */
  lead(epoch: number, acquiredAt: number): void {
    this.slots.set(LEASE_SLOTS.renewedAt, acquiredAt);
    this.slots.set(LEASE_SLOTS.lostEpoch, 0);
    this.slots.set(LEASE_SLOTS.epoch, epoch);
    this.worker.postMessage("lead"); // renew at once: the lease then names the worker's connection
  }

  /** Whether this leader must stop acting: its lease was refused, or no renewal succeeded in time. */
  mustStepDown(epoch: number, now = Date.now()): string | undefined {
    if (this.lost(epoch)) return "lease lost";
    const silentMs = now - this.renewedAt;
    if (silentMs > this.stepDownAfterMs) return `could not renew the lease in time (no renewal for ${silentMs} ms)`;
    return undefined;
  }

  /** The smallest margin seen between a renewal and the step-down deadline, in ms; undefined before any renewal. */
  get minSlackMs(): number | undefined {
    const slack = this.slots.get(LEASE_SLOTS.minSlackMs);
    return slack === NO_SLACK_MEASURED ? undefined : slack;
  }

  get renewals(): number {
    return this.slots.get(LEASE_SLOTS.renewals);
  }

  standBy(): void {
    this.slots.set(LEASE_SLOTS.epoch, 0);
  }

  get renewedAt(): number {
    return this.slots.get(LEASE_SLOTS.renewedAt);
  }

  /** Redis refused a renewal of this epoch: another master holds the lease. */
  lost(epoch: number): boolean {
    return this.slots.get(LEASE_SLOTS.lostEpoch) === epoch;
  }

  async stop(): Promise<void> {
    clearInterval(this.pulse);
    this.standBy();
    this.worker.postMessage("stop");
    await this.worker.terminate();
  }
}
