import type { Redis } from "ioredis";
import { CorralError } from "@corral/contracts";
import { cellKeys } from "./keys.js";
import { registerScripts, type FencedScripts } from "./scripts.js";

export interface StateChanges {
  puts: ReadonlyArray<readonly [field: string, value: Buffer | Uint8Array]>;
  deletes: readonly string[];
}

/** Fields one fenced script call carries: each becomes two values in the log entry, well under Lua's unpack limit (~8,000). */
const MAX_FIELDS_PER_CALL = 1000;

/**
 * Writes to the cell's durable state: every change goes through the fenced commit script
 * into the change log, so only the leader of the current epoch can change anything.
 * Reading the state back is CheckpointStore's: a checkpoint plus the log after it.
 */
export interface ReplicaWait {
  /** replicas that must hold a commit before it counts as done */
  replicas: number;
  timeoutMs: number;
}

export class FencedStore {
  private readonly redis: Redis & FencedScripts;
  private readonly keys: ReturnType<typeof cellKeys>;

  /**
   * With `replicaWait`, a commit is done only once that many Redis replicas hold it
   * (WAIT), so promoting a replica after the primary dies loses no acknowledged write.
   */
  constructor(
    redis: Redis,
    cell: string,
    private readonly replicaWait?: ReplicaWait,
  ) {
    this.redis = registerScripts(redis);
    this.keys = cellKeys(cell);
  }

  /**
   * Appends the batch and returns its last change log id; a stale epoch is refused. A batch
   * larger than one script call can take (Lua's unpack limit) goes as several fenced calls
   * in order, each atomic; every field is a whole record, so a prefix applied alone is
   * still a consistent state.
   */
  async commit(epoch: number, changes: StateChanges): Promise<string> {
    const calls: StateChanges[] = [];
    for (let i = 0; i < changes.puts.length; i += MAX_FIELDS_PER_CALL) calls.push({ puts: changes.puts.slice(i, i + MAX_FIELDS_PER_CALL), deletes: [] });
    for (let i = 0; i < changes.deletes.length; i += MAX_FIELDS_PER_CALL) calls.push({ puts: [], deletes: changes.deletes.slice(i, i + MAX_FIELDS_PER_CALL) });
    if (calls.length === 0) calls.push({ puts: [], deletes: [] });
    const results = await Promise.all(calls.map((call) => this.commitOnce(epoch, call)));
    if (this.replicaWait !== undefined) await this.waitForReplicas(this.replicaWait);
    return results[results.length - 1]!;
  }

  private async commitOnce(epoch: number, changes: StateChanges): Promise<string> {
    const args: (string | Buffer)[] = [String(epoch), String(changes.puts.length)];
    for (const [field, value] of changes.puts) args.push(field, Buffer.isBuffer(value) ? value : Buffer.from(value));
    args.push(...changes.deletes);
    try {
      return await this.redis.fencedCommit(this.keys.epoch, this.keys.log, ...args);
    } catch (error) {
      const message = (error as Error).message;
      if (message.includes("STALE_EPOCH")) throw new CorralError("stale_epoch", message.replace(/^.*STALE_EPOCH /, "stale epoch: "));
      throw error;
    }
  }

  /**
   * WAIT counts replicas that hold every write this connection made so far. Too few is not
   * a refusal: the write is in the primary's log, so the caller must treat the outcome as
   * unknown and retry idempotently, never as "not applied".
   */
  private async waitForReplicas({ replicas, timeoutMs }: ReplicaWait): Promise<void> {
    const holding = Number(await this.redis.wait(replicas, timeoutMs));
    if (holding < replicas) {
      throw new CorralError("unavailable", `committed on the Redis primary, but only ${holding} of ${replicas} replicas confirmed it within ${timeoutMs}ms; not acknowledged, retry`);
    }
  }

  async currentEpoch(): Promise<number> {
    return Number((await this.redis.get(this.keys.epoch)) ?? 0);
  }
}
