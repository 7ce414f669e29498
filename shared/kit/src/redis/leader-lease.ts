import type { Redis } from "ioredis";
import { cellKeys } from "./keys.js";
import { registerScripts, type FencedScripts } from "./scripts.js";
import { CorralError } from "@corral/contracts";
import type { ReplicaWait } from "./fenced-store.js";

/** The lease's holder as a standby saw it, and whether the holder's Redis connection is still open. */
export interface LeaseObservation {
  /** `<id>/<epoch>`, or null when nobody holds the lease */
  holder: string | null;
  /** the Redis client id the holder last renewed on */
  connection: string | null;
  /** false once Redis no longer lists that connection: the holder's process is gone (or lost Redis) */
  connected: boolean;
  /** how long the lease has left, in ms (0 when nobody holds it) */
  remainingMs: number;
}

/**
 * The cell's leader lease, renewed only by its holder. Winning it opens a new epoch, the
 * fencing token every write and borglet command carries.
 *
 * The lease is long (a busy machine must not cost a live leader its term), yet failover is
 * fast: the holder's Redis connection is recorded with the lease, a dead process's
 * connection is closed by its kernel at once, and a standby that sees it gone from
 * `CLIENT LIST` may take the lease without waiting for it to expire. A frozen or cut-off
 * leader keeps its connection open and is replaced only when the lease runs out.
 */
export class LeaderLease {
  private readonly redis: Redis & FencedScripts;
  private readonly keys: ReturnType<typeof cellKeys>;
  /** this connection's client id; a reconnected connection has a new one */
  private connectionId: Promise<string> | undefined;

  constructor(
    redis: Redis,
    cell: string,
    private readonly candidate: string,
    readonly ttlMs: number,
    /** replicas that must hold a won epoch before it is led from, as a commit waits for them */
    private readonly replicaWait?: ReplicaWait,
  ) {
    this.redis = registerScripts(redis);
    this.keys = cellKeys(cell);
    redis.on("ready", () => {
      this.connectionId = undefined;
    });
  }

  private ownConnectionId(): Promise<string> {
    this.connectionId ??= this.redis.client("ID").then(String, (error: unknown) => {
      this.connectionId = undefined;
      throw error;
    });
    return this.connectionId;
  }

  /**
   * The new epoch when this candidate won, or 0 when the lease is held. With `replacing`,
   * the lease is also won from that holder if it still holds it on that same connection,
   * which the caller saw closed.
   */
  async tryAcquire(replacing?: { holder: string; connection: string }): Promise<number> {
    const gone = replacing === undefined ? [] : [replacing.holder, replacing.connection];
    const connection = await this.ownConnectionId();
    const won = await this.redis.acquireLeadership(this.keys.lease, this.keys.epoch, this.keys.leaseConnection, this.candidate, this.ttlMs, connection, ...gone);
    if (won > 0 && this.replicaWait !== undefined) await this.epochReplicated(won, this.replicaWait);
    return won;
  }

  /**
   * A won epoch only on the primary could be lost with it: a replica promoted then would hand
   * the same epoch to the next winner, and two leaders would pass one fence. So the win is
   * given up unless the replicas hold it.
   */
  private async epochReplicated(epoch: number, { replicas, timeoutMs }: ReplicaWait): Promise<void> {
    const holding = Number(await this.redis.wait(replicas, timeoutMs));
    if (holding >= replicas) return;
    await this.release(epoch).catch(() => {});
    throw new CorralError("unavailable", `won epoch ${epoch}, but only ${holding} of ${replicas} Redis replicas confirmed it within ${timeoutMs}ms; not leading from it`);
  }

  async renew(epoch: number): Promise<boolean> {
    const connection = await this.ownConnectionId();
    return (await this.redis.renewLeadership(this.keys.lease, this.keys.leaseConnection, `${this.candidate}/${epoch}`, this.ttlMs, connection)) === 1;
  }

  async release(epoch: number): Promise<void> {
    await this.redis.releaseLeadership(this.keys.lease, this.keys.leaseConnection, `${this.candidate}/${epoch}`);
  }

  /** How long the current lease has left, in ms; 0 when nobody holds it. */
  async remainingMs(): Promise<number> {
    return Math.max(0, await this.redis.pttl(this.keys.lease));
  }

  /** Who leads now, as `<id>/<epoch>`, if anyone. */
  async holder(): Promise<string | null> {
    return this.redis.get(this.keys.lease);
  }

  /** The holder, its connection, and whether Redis still lists that connection. */
  async observe(): Promise<LeaseObservation> {
    const replies = await this.redis.multi().get(this.keys.lease).get(this.keys.leaseConnection).pttl(this.keys.lease).exec();
    const [holder, connection, pttl] = (replies ?? []).map(([error, value]) => {
      if (error !== null) throw error;
      return value;
    }) as [string | null, string | null, number];
    if (holder === null) return { holder, connection, connected: false, remainingMs: 0 };
    // A lease with no connection recorded was written by an older master: trust it until it expires.
    const connected = connection === null || /^\d+$/.test(connection) === false || String(await this.redis.call("CLIENT", "LIST", "ID", connection)).trim() !== "";
    return { holder, connection, connected, remainingMs: Math.max(0, pttl) };
  }
}
