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
  /** the smallest margin, in ms, between a renewal's reply and the moment the leader would have stepped down without it */
  minSlackMs: 4,
  /** successful renewals since this replica started */
  renewals: 5,
} as const;

export interface LeaseKeeperOptions {
  redisUrl: string;
  /** the password, handed to the worker thread in memory */
  redisPassword?: string | undefined;
  /** the CA file its TLS connection checks the servers against, when they speak TLS */
  redisTlsCa?: string | undefined;
  cell: string;
  candidate: string;
  ttlMs: number;
  /** how often the holder renews: many times per lease, so one slow reply costs nothing */
  renewEveryMs: number;
  /** the leader stops acting when no renewal succeeded for this long (less than the TTL: a margin for clocks and replies) */
  stepDownAfterMs: number;
  /** the worker stops renewing when the main thread has shown no pulse for this long */
  stallToleranceMs: number;
  slots: SharedArrayBuffer;
}

/** The slack reported before any renewal was measured. */
export const NO_SLACK_MEASURED = Number.MAX_SAFE_INTEGER;

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
