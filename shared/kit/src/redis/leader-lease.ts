import type { Redis } from "ioredis";
import { cellKeys } from "./keys.js";
import { registerScripts, type FencedScripts } from "./scripts.js";

/**
 * The cell's leader lease (SET NX PX), renewed only by its holder. Winning it opens a new
 * epoch, the fencing token every write and borglet command carries.
 */
export class LeaderLease {
  private readonly redis: Redis & FencedScripts;
  private readonly keys: ReturnType<typeof cellKeys>;

  constructor(
    redis: Redis,
    cell: string,
    private readonly candidate: string,
    readonly ttlMs: number,
  ) {
    this.redis = registerScripts(redis);
    this.keys = cellKeys(cell);
  }

  /** The new epoch when this candidate won, or 0 when someone else holds the lease. */
  async tryAcquire(): Promise<number> {
    return this.redis.acquireLeadership(this.keys.lease, this.keys.epoch, this.candidate, this.ttlMs);
  }

  async renew(epoch: number): Promise<boolean> {
    return (await this.redis.renewLeadership(this.keys.lease, `${this.candidate}/${epoch}`, this.ttlMs)) === 1;
  }

  async release(epoch: number): Promise<void> {
    await this.redis.releaseLeadership(this.keys.lease, `${this.candidate}/${epoch}`);
  }

  /** How long the current lease has left, in ms; 0 when nobody holds it. */
  async remainingMs(): Promise<number> {
    return Math.max(0, await this.redis.pttl(this.keys.lease));
  }

  /** Who leads now, as `<id>/<epoch>`, if anyone. */
  async holder(): Promise<string | null> {
    return this.redis.get(this.keys.lease);
  }
}
