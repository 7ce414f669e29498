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
/** Fields one fenced script call carries: each becomes two values in the log entry, well under Lua's unpack limit (~8,000). */
const MAX_FIELDS_PER_CALL = 1000;

export interface LogEntry {
  id: string;
  epoch: number;
  puts: [field: string, value: Buffer][];
  deletes: string[];
}

/** Orders change log ids ("<ms>-<seq>"). */
export function compareLogIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split("-").map(Number);
  const [bMs = 0, bSeq = 0] = b.split("-").map(Number);
  return aMs - bMs || aSeq - bSeq;
}

/**
 * Reads the change log after `position` on its own connection (XREAD BLOCK holds a
 * connection while it waits, so it must not share the one commits use).
 */
export class ChangeLogReader {
  private readonly key: string;

  constructor(
    private readonly connection: Redis,
    cell: string,
  ) {
    this.key = cellKeys(cell).log;
  }

  async read(position: string, options: { blockMs?: number; count?: number } = {}): Promise<LogEntry[]> {
    const args: (string | number)[] = ["COUNT", options.count ?? 1000];
    if (options.blockMs !== undefined) args.push("BLOCK", options.blockMs);
    const reply = (await this.connection.xreadBuffer(...(args as ["COUNT", number]), "STREAMS", this.key, position)) as
      | [Buffer, [Buffer, Buffer[]][]][]
      | null;
    if (reply === null) return [];
    const entries: LogEntry[] = [];
    for (const [, items] of reply) {
      for (const [id, fields] of items) {
        const entry: LogEntry = { id: id.toString(), epoch: 0, puts: [], deletes: [] };
        for (let i = 0; i + 1 < fields.length; i += 2) {
          const name = fields[i]!.toString();
          if (name === "epoch") entry.epoch = Number(fields[i + 1]!.toString());
          else if (name.startsWith("put:")) entry.puts.push([name.slice(4), fields[i + 1]!]);
          else if (name.startsWith("del:")) entry.deletes.push(name.slice(4));
        }
        entries.push(entry);
      }
    }
    return entries;
  }
}

export class FencedStore {
  private readonly redis: Redis & FencedScripts;
  private readonly keys: ReturnType<typeof cellKeys>;

  constructor(redis: Redis, cell: string) {
    this.redis = registerScripts(redis);
    this.keys = cellKeys(cell);
  }

  /**
   * Applies the batch and returns its last change log id; a stale epoch is refused. A batch
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
    return results[results.length - 1]!;
  }

  private async commitOnce(epoch: number, changes: StateChanges): Promise<string> {
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

  /**
   * The whole state and the change log position it covers, read atomically (MULTI), so a
   * follower can apply exactly the log entries after it.
   */
  async snapshot(): Promise<{ state: Map<string, Buffer>; position: string }> {
    const results = await this.redis.multi().hgetallBuffer(this.keys.state).xrevrange(this.keys.log, "+", "-", "COUNT", 1).exec();
    if (results === null) throw new Error("snapshot transaction was aborted");
    const [stateResult, lastResult] = results as [[Error | null, Record<string, Buffer>], [Error | null, [string, string[]][]]];
    if (stateResult[0] !== null) throw stateResult[0];
    if (lastResult[0] !== null) throw lastResult[0];
    return { state: new Map(Object.entries(stateResult[1])), position: lastResult[1][0]?.[0] ?? "0-0" };
  }

  /** The oldest entry still in the change log, or undefined when it is empty. */
  async firstLogId(): Promise<string | undefined> {
    const first = await this.redis.xrange(this.keys.log, "-", "+", "COUNT", 1);
    return first[0]?.[0];
  }

  async load(field: string): Promise<Buffer | null> {
    return this.redis.hgetBuffer(this.keys.state, field);
  }

  async currentEpoch(): Promise<number> {
    return Number((await this.redis.get(this.keys.epoch)) ?? 0);
  }
}
