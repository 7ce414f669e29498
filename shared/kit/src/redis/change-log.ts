import type { Redis } from "ioredis";
import { cellKeys } from "./keys.js";

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

type RawEntry = [id: Buffer, fields: Buffer[]];

export function parseLogEntry([id, fields]: RawEntry): LogEntry {
  const entry: LogEntry = { id: id.toString(), epoch: 0, puts: [], deletes: [] };
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString();
    if (name === "epoch") entry.epoch = Number(fields[i + 1]!.toString());
    else if (name.startsWith("put:")) entry.puts.push([name.slice(4), fields[i + 1]!]);
    else if (name.startsWith("del:")) entry.deletes.push(name.slice(4));
  }
  return entry;
}

/** Applies log entries to a field → record map: the state after them. */
export function applyLogEntries(records: Map<string, Buffer>, entries: readonly LogEntry[]): void {
  for (const entry of entries) {
    for (const [field, value] of entry.puts) records.set(field, value);
    for (const field of entry.deletes) records.delete(field);
  }
}

/** Every entry after `position` (exclusive) to the end of the log, in pages. */
export async function readLogAfter(redis: Redis, cell: string, position: string, pageSize = 10_000): Promise<LogEntry[]> {
  const key = cellKeys(cell).log;
  const entries: LogEntry[] = [];
  let from = position;
  for (;;) {
    const page = (await redis.xrangeBuffer(key, `(${from}`, "+", "COUNT", pageSize)) as unknown as RawEntry[];
    for (const raw of page) entries.push(parseLogEntry(raw));
    if (page.length < pageSize) return entries;
    from = entries[entries.length - 1]!.id;
  }
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
    const reply = (await this.connection.xreadBuffer(...(args as ["COUNT", number]), "STREAMS", this.key, position)) as [Buffer, RawEntry[]][] | null;
    if (reply === null) return [];
    return reply.flatMap(([, items]) => items.map(parseLogEntry));
  }
}
