import type { Redis } from "ioredis";
import { CorralError } from "@corral/contracts";
import { cellKeys } from "./keys.js";
import { registerScripts, type FencedScripts } from "./scripts.js";

export interface StateChanges {
  puts: ReadonlyArray<readonly [field: string, value: Buffer | Uint8Array]>;
  deletes: readonly string[];
}

/**
 * The cell's durable state in Redis. Reads are free; every write goes through the fenced
 * commit script, so only the leader of the current epoch can change anything.
 */
export class FencedStore {
  private readonly redis: Redis & FencedScripts;
  private readonly keys: ReturnType<typeof cellKeys>;

  constructor(redis: Redis, cell: string) {
    this.redis = registerScripts(redis);
    this.keys = cellKeys(cell);
  }

  /** Applies the batch atomically and returns its change log id; a stale epoch is refused. */
  async commit(epoch: number, changes: StateChanges): Promise<string> {
    const args: (string | Buffer)[] = [String(epoch), String(changes.puts.length)];
    for (const [field, value] of changes.puts) args.push(field, Buffer.isBuffer(value) ? value : Buffer.from(value));
    args.push(...changes.deletes);
    try {
      return await this.redis.fencedCommit(this.keys.epoch, this.keys.state, this.keys.log, ...args);
    } catch (error) {
      const message = (error as Error).message;
      if (message.includes("STALE_EPOCH")) throw new CorralError("stale_epoch", message.replace(/^.*STALE_EPOCH /, "stale epoch: "));
      throw error;
    }
  }

  async loadAll(): Promise<Map<string, Buffer>> {
    const entries = await this.redis.hgetallBuffer(this.keys.state);
    return new Map(Object.entries(entries));
  }

  async load(field: string): Promise<Buffer | null> {
    return this.redis.hgetBuffer(this.keys.state, field);
  }

  async currentEpoch(): Promise<number> {
    return Number((await this.redis.get(this.keys.epoch)) ?? 0);
  }
}
