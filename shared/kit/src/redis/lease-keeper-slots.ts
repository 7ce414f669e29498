/** What the main thread and the lease keeper's worker share: whole numbers in a SharedArrayBuffer, read and written atomically. */
export const LEASE_SLOTS = {
  /** the epoch to renew; 0 while not leading */
  epoch: 0,
  /** when the main thread last showed it runs (ms since the epoch) */
  pulseAt: 1,
  /** when the last successful renewal was asked for */
  renewedAt: 2,
  /** an epoch whose renewal Redis refused: the lease is someone else's */
  lostEpoch: 3,
} as const;

export interface LeaseKeeperOptions {
  redisUrl: string;
  cell: string;
  candidate: string;
  ttlMs: number;
  /** the worker stops renewing when the main thread has shown no pulse for this long */
  stallToleranceMs: number;
  slots: SharedArrayBuffer;
}

export class LeaseSlots {
  private readonly values: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT * Object.keys(LEASE_SLOTS).length)) {
    this.values = new BigInt64Array(buffer);
  }

  get(slot: number): number {
    return Number(Atomics.load(this.values, slot));
  }

  set(slot: number, value: number): void {
    Atomics.store(this.values, slot, BigInt(Math.trunc(value)));
  }
}
