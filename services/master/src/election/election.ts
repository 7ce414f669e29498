// Who leads: a standby's loop over the leader lease. Apart from the leader term, which starts only
// once this has won an epoch.
import { subjects } from "@corral/contracts";
import type { LeaderLease, LeaseObservation, Logger, NatsConnection, Subscription } from "@corral/kit";

export interface ElectionOptions {
  cell: string;
  lease: LeaderLease;
  nc: NatsConnection;
  log: Logger;
  /** how often a standby looks at the lease and its holder's connection */
  checkEveryMs: number;
  isLeading(): boolean;
  /** becomes a standby able to lead (following the state) before it competes */
  prepare(): Promise<void>;
  /** called with the epoch won and when the lease was asked for */
  lead(epoch: number, askedAt: number): Promise<void>;
  /** an election step that threw; the loop goes on unless this throws */
  onError(error: unknown): void;
}

/** A holder whose connection a standby saw closed: replaced only when seen so twice, on the same connection. */
interface Suspect {
  holder: string;
  connection: string;
}

/**
 * A standby's side of the leader election. The lease is long, so that a busy machine never
 * costs a live leader its term; failover is still fast, because a standby takes the lease
 * as soon as the leader is proven gone rather than when its lease runs out:
 * - the lease is free (it expired, or the leader gave it up on a graceful stop, which it
 *   also announces on NATS so standbys try at once), or
 * - Redis no longer lists the holder's connection, twice in a row on the same connection
 *   (a process that dies has its sockets closed by the kernel at once; seeing it twice
 *   rules out a reply racing a reconnect that had not renewed yet).
 * A leader that is frozen or cut off from Redis keeps its connection and is replaced only
 * when its lease expires. Safety rests on the epoch fence either way: a new epoch's
 * commits refuse any older leader's.
 */
export class Election {
  private stopping = false;
  private suspect: Suspect | undefined;
  private wake: (() => void) | undefined;
  private released: Subscription | undefined;

  constructor(private readonly options: ElectionOptions) {}

  start(): void {
    this.released = this.options.nc.subscribe(subjects.leaseReleased(this.options.cell), { callback: () => this.wake?.() });
    void this.loop();
  }

  stop(): void {
    this.stopping = true;
    this.released?.unsubscribe();
    this.wake?.();
  }

  /** Tells the standbys the lease is free now (after a graceful release). */
  announceRelease(): void {
    this.options.nc.publish(subjects.leaseReleased(this.options.cell));
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        if (!this.options.isLeading()) await this.step();
      } catch (error) {
        this.options.onError(error);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.checkEveryMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** One look at the lease: compete when it is free or its holder is gone. */
  private async step(): Promise<void> {
    const { lease, log } = this.options;
    await this.options.prepare();
    const asked = Date.now(); // the lease runs from when it was asked for, not from the reply
    const seen = await lease.observe();
    const replacing = this.judge(seen);
    if (seen.holder !== null && replacing === undefined) return;
    if (replacing !== undefined) log.warn({ holder: replacing.holder, connection: replacing.connection, leaseLeftMs: seen.remainingMs }, "the leader's Redis connection is closed: taking over before its lease runs out");
    const won = await lease.tryAcquire(replacing);
    this.suspect = undefined;
    if (won > 0) await this.options.lead(won, asked);
  }

  /** The holder to replace, once its connection was seen closed twice; undefined otherwise. */
  private judge(seen: LeaseObservation): Suspect | undefined {
    if (seen.holder === null || seen.connected || seen.connection === null) {
      this.suspect = undefined;
      return undefined;
    }
    const now: Suspect = { holder: seen.holder, connection: seen.connection };
    const confirmed = this.suspect !== undefined && this.suspect.holder === now.holder && this.suspect.connection === now.connection;
    this.suspect = now;
    return confirmed ? now : undefined;
  }
}
