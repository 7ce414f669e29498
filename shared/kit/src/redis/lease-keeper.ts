import type { Worker } from "node:worker_threads";
import { startTypeScriptWorker } from "../threads/typescript-worker.js";
import { LEASE_SLOTS, LeaseSlots, type LeaseKeeperOptions } from "./lease-keeper-slots.js";

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

  constructor(options: Omit<LeaseKeeperOptions, "slots">) {
    this.slots.set(LEASE_SLOTS.pulseAt, Date.now());
    this.worker = startTypeScriptWorker(new URL("./lease-keeper-worker.ts", import.meta.url), { ...options, slots: this.slots.buffer });
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
