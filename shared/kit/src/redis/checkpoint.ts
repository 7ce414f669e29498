import type { Redis } from "ioredis";
import { CorralError, decode, encode } from "@corral/contracts";
import { applyLogEntries, compareLogIds, readLogAfter } from "./change-log.js";
import { cellKeys } from "./keys.js";
import { registerScripts, type FencedScripts } from "./scripts.js";

/** The layout of a checkpoint itself; bump it when the envelope below changes. */
export const CHECKPOINT_FORMAT = 1;

/** What a checkpoint says about itself, without its records. */
export interface CheckpointHeader {
  format: number;
  /** the version of the records' schema (the task lifecycle machine's) that wrote them */
  machineVersion: number;
  cell: string;
  /** the last change log entry it covers */
  position: string;
  epoch: number;
  takenAt: number;
}

export interface Checkpoint extends CheckpointHeader {
  records: Map<string, Buffer>;
  bytes: number;
}

/** The cell's state as of `position`: the latest checkpoint plus every log entry after it. */
export interface RecoveredState {
  records: Map<string, Buffer>;
  position: string;
  checkpoint: CheckpointHeader | undefined;
  /** log entries replayed on top of the checkpoint */
  replayed: number;
}

export type TakenCheckpoint = CheckpointHeader & { records: number; bytes: number };

interface StoredCheckpoint extends CheckpointHeader {
  records: [string, Buffer][];
}

function headerOf(checkpoint: CheckpointHeader): CheckpointHeader {
  const { format, machineVersion, cell, position, epoch, takenAt } = checkpoint;
  return { format, machineVersion, cell, position, epoch, takenAt };
}

/** A checkpoint's bytes, as stored in Redis and in files (`corral checkpoint save`). */
export function encodeCheckpoint(header: CheckpointHeader, records: ReadonlyMap<string, Buffer>): Buffer {
  const stored: StoredCheckpoint = { ...headerOf(header), records: [...records] };
  return Buffer.from(encode(stored));
}

/** Reads a checkpoint's bytes; `what` names it in errors (a cell's checkpoint, a file). */
export function decodeCheckpoint(data: Buffer, what: string): Checkpoint {
  let stored: Partial<StoredCheckpoint>;
  try {
    stored = decode(data) as Partial<StoredCheckpoint>;
  } catch {
    throw new CorralError("incompatible_state", `${what} is not a Corral checkpoint`);
  }
  if (typeof stored !== "object" || stored === null || typeof stored.format !== "number" || !Array.isArray(stored.records)) {
    throw new CorralError("incompatible_state", `${what} is not a Corral checkpoint`);
  }
  if (stored.format !== CHECKPOINT_FORMAT) {
    throw new CorralError("incompatible_state", `${what} has format ${stored.format}; this version reads format ${CHECKPOINT_FORMAT}`);
  }
  const full = stored as StoredCheckpoint;
  return { ...full, records: new Map(full.records), bytes: data.length };
}

/** A recovery is read in several calls; a checkpoint written meanwhile trims the log under it, so it is read again. */
const RECOVERY_ATTEMPTS = 5;
/**
 * A checkpoint is stored in chunks this big, each written by a call of its own: one value of
 * hundreds of megabytes held Redis up for seconds (every command of every master timed out
 * meanwhile) and would pass Redis's 512 MB limit on one value at about 1.5 million tasks.
 */
const CHUNK_BYTES = 4 * 1024 * 1024;
const CHUNKS_PER_READ = 4;
/** Chunks never made a checkpoint (their writer died) are dropped after this long. */
const UNFINISHED_CHUNKS_TTL_MS = 10 * 60_000;

/**
 * Periodic checkpoints of the cell's state (Borg's checkpoint plus change log): each holds
 * every record as of one log position; storing one trims the log behind the one before it.
 */
export class CheckpointStore {
  private readonly redis: Redis & FencedScripts;
  private readonly keys: ReturnType<typeof cellKeys>;

  constructor(
    redis: Redis,
    private readonly cell: string,
    /** the records' schema version this process writes */
    private readonly machineVersion: number,
    /** the versions it can read (older ones it still understands) */
    private readonly readableVersions: readonly number[] = [machineVersion],
  ) {
    this.redis = registerScripts(redis);
    this.keys = cellKeys(cell);
  }

  /** The stored checkpoint as it is, whatever its version (for inspection); undefined when none was taken. */
  async read(): Promise<Checkpoint | undefined> {
    const what = `the checkpoint of cell ${this.cell}`;
    for (let attempt = 0; attempt < RECOVERY_ATTEMPTS; attempt++) {
      const [data, chunks, chunkCount] = await this.redis.hmgetBuffer(this.keys.checkpoint, "data", "chunks", "chunkCount");
      // The layout before chunks: the whole checkpoint in one field.
      if (data !== null && data !== undefined) return decodeCheckpoint(data, what);
      if (chunks === null || chunks === undefined || chunkCount === null || chunkCount === undefined) return undefined;
      const bytes = await this.readChunks(chunks.toString(), Number(chunkCount.toString()));
      // A newer checkpoint replaced this one while it was read (its chunks are gone): read that one.
      if (bytes !== undefined) return decodeCheckpoint(bytes, what);
    }
    throw new CorralError("unavailable", `checkpoints of cell ${this.cell} moved on during ${RECOVERY_ATTEMPTS} reads in a row; retry`);
  }

  /** A checkpoint's chunks, in order, a few at a time; undefined when some are gone. */
  private async readChunks(key: string, count: number): Promise<Buffer | undefined> {
    const parts: Buffer[] = [];
    for (let first = 0; first < count; first += CHUNKS_PER_READ) {
      const fields = Array.from({ length: Math.min(CHUNKS_PER_READ, count - first) }, (_, i) => String(first + i));
      const chunks = await this.redis.hmgetBuffer(key, ...fields);
      for (const chunk of chunks) {
        if (chunk === null || chunk === undefined) return undefined;
        parts.push(chunk);
      }
    }
    return Buffer.concat(parts);
  }

  /** The log position the stored checkpoint covers ("0-0" when there is none). */
  async position(): Promise<string> {
    return (await this.redis.hget(this.keys.checkpoint, "position")) ?? "0-0";
  }

  /** The newest log entry, or undefined when the log is empty. */
  async lastLogId(): Promise<string | undefined> {
    return (await this.redis.xrevrange(this.keys.log, "+", "-", "COUNT", 1))[0]?.[0];
  }

  /** How many entries the log keeps (those after the checkpoint before the latest, and the one at it). */
  async logLength(): Promise<number> {
    return this.redis.xlen(this.keys.log);
  }

  /** The first log entry still kept, or undefined when the log is empty. */
  async firstLogId(): Promise<string | undefined> {
    return (await this.redis.xrange(this.keys.log, "-", "+", "COUNT", 1))[0]?.[0];
  }

  /**
   * Recovery = checkpoint + replay: the state as of the end of the log. A checkpoint from
   * another records version is an error that says which, never a guess.
   */
  async recover(): Promise<RecoveredState> {
    for (let attempt = 0; attempt < RECOVERY_ATTEMPTS; attempt++) {
      const checkpoint = await this.read();
      if (checkpoint !== undefined) this.assertCompatible(checkpoint);
      else if ((await this.redis.exists(this.keys.state)) === 1) {
        // The layout before checkpoints kept the state in a hash beside a capped log; reading the log alone would lose jobs.
        throw new CorralError(
          "incompatible_state",
          `cell ${this.cell} was written by a Corral without checkpoints (${this.keys.state}); this version cannot read that layout. Start the cell afresh (remove its corral:{${this.cell}}:* keys) or run the older version`,
        );
      }
      const start = checkpoint?.position ?? "0-0";
      const entries = await readLogAfter(this.redis, this.cell, start);
      // A checkpoint written while the log was read trims only behind the one before it, so
      // this read lost entries only if the log was trimmed past its start: read again then.
      if (await this.trimmedPast(start)) continue;
      const records = checkpoint?.records ?? new Map<string, Buffer>();
      applyLogEntries(records, entries);
      return {
        records,
        position: entries[entries.length - 1]?.id ?? start,
        checkpoint: checkpoint === undefined ? undefined : headerOf(checkpoint),
        replayed: entries.length,
      };
    }
    throw new CorralError("unavailable", `checkpoints of cell ${this.cell} moved on during ${RECOVERY_ATTEMPTS} recoveries in a row; retry`);
  }

  /**
   * Takes a checkpoint of the state at the end of the log and trims the log behind the previous one.
   * Built from Redis alone, so any master can take it; returns undefined when a newer one
   * was stored meanwhile.
   */
  async take(): Promise<TakenCheckpoint | undefined> {
    const last = await this.lastLogId();
    if (last === undefined || compareLogIds(last, await this.position()) <= 0) return undefined; // nothing new since the last one
    const { header, records, recovered } = await this.current();
    if (recovered.checkpoint !== undefined && compareLogIds(recovered.position, recovered.checkpoint.position) <= 0) {
      return undefined; // nothing new since the last one
    }
    return this.store(header, encodeCheckpoint(header, records), records.size);
  }

  /**
   * Takes a checkpoint of records the caller already holds as of `position` (a standby's
   * followed copy), so nothing is read back from Redis or replayed. They are encoded at
   * once, before anything else can change them; returns undefined when the stored
   * checkpoint is as new already.
   */
  async takeOf(records: ReadonlyMap<string, Buffer>, position: string): Promise<TakenCheckpoint | undefined> {
    const header: CheckpointHeader = { format: CHECKPOINT_FORMAT, machineVersion: this.machineVersion, cell: this.cell, position, epoch: 0, takenAt: Date.now() };
    const data = encodeCheckpoint(header, records);
    const count = records.size;
    if (compareLogIds(position, await this.position()) <= 0) return undefined;
    // The epoch is informational (inspect shows it); the log position is what orders checkpoints.
    return this.store({ ...header, epoch: Number((await this.redis.get(this.keys.epoch)) ?? 0) }, data, count);
  }

  /**
   * Writes the checkpoint's chunks one call each, then makes them the checkpoint in one
   * step (write-checkpoint-3.lua). Chunks of a writer that dies before that expire.
   */
  private async store(header: CheckpointHeader, data: Buffer, records: number): Promise<TakenCheckpoint | undefined> {
    const key = this.keys.checkpointChunks(header.position);
    const count = Math.max(1, Math.ceil(data.length / CHUNK_BYTES));
    for (let index = 0; index < count; index++) {
      await this.redis.hset(key, String(index), data.subarray(index * CHUNK_BYTES, (index + 1) * CHUNK_BYTES));
      if (index === 0) await this.redis.pexpire(key, UNFINISHED_CHUNKS_TTL_MS);
    }
    const written = await this.redis.writeCheckpoint(this.keys.checkpoint, this.keys.log, key, header.position, count);
    if (written === -1) throw new CorralError("unavailable", `the chunks of the checkpoint at ${header.position} were gone before it was stored (written over ${UNFINISHED_CHUNKS_TTL_MS / 60_000} minutes?)`);
    return written === 1 ? { ...header, records, bytes: data.length } : undefined;
  }

  /** The state at the end of the log, as a checkpoint would hold it (for `take`, and for saving to a file). */
  async current(): Promise<{ header: CheckpointHeader; records: Map<string, Buffer>; recovered: RecoveredState }> {
    const recovered = await this.recover();
    const header: CheckpointHeader = {
      format: CHECKPOINT_FORMAT,
      machineVersion: this.machineVersion,
      cell: this.cell,
      position: recovered.position,
      epoch: Number((await this.redis.get(this.keys.epoch)) ?? 0),
      takenAt: Date.now(),
    };
    return { header, records: recovered.records, recovered };
  }

  /**
   * Whether a reader at `position` may have missed entries: the log is trimmed only up to
   * the checkpoint before the latest, so only a reader that far behind can have. Checked
   * after a read, it catches a trim that happened before the read.
   */
  async trimmedPast(position: string): Promise<boolean> {
    const trimmedTo = (await this.redis.hget(this.keys.checkpoint, "trimmedTo")) ?? "0-0";
    return compareLogIds(trimmedTo, position) > 0;
  }

  /** A try-lock so that one master at a time takes checkpoints; it lapses on its own. */
  async claimTurn(holder: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.keys.checkpointLock, holder, "PX", ttlMs, "NX")) === "OK";
  }

  /** Keeps the turn taken for `ttlMs` more: no master takes the next checkpoint before then. */
  async holdTurn(holder: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.checkpointLock, holder, "PX", ttlMs);
  }

  /** Whether some master holds the turn (is taking a checkpoint, or spacing them). */
  async turnHeld(): Promise<boolean> {
    return (await this.redis.exists(this.keys.checkpointLock)) === 1;
  }

  private assertCompatible(checkpoint: CheckpointHeader): void {
    if (!this.readableVersions.includes(checkpoint.machineVersion)) {
      throw new CorralError(
        "incompatible_state",
        `the checkpoint of cell ${checkpoint.cell} at ${checkpoint.position} holds records of task lifecycle version ${checkpoint.machineVersion}; ` +
          `this master reads version${this.readableVersions.length > 1 ? "s" : ""} ${this.readableVersions.join(", ")}. Run a master of version ${checkpoint.machineVersion} to read it, or clear the cell's state (corral:{${checkpoint.cell}}:*) to start empty`,
      );
    }
  }
}
