import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Who a task runs as on this machine. */
export interface TaskIdentity {
  uid: number;
  gid: number;
}

export interface UidRange {
  from: number;
  to: number;
}

/** `FROM-TO`: the uids (and gids alike) this machine hands its users' tasks. */
export function parseUidRange(text: string): UidRange {
  const match = /^(\d+)-(\d+)$/.exec(text.trim());
  const from = Number(match?.[1]);
  const to = Number(match?.[2]);
  if (match === null || from < 1000 || to < from || to > 4_294_967_294) {
    throw new Error(`'${text}' is not a range of unprivileged uids like 2000000-2099999 (from 1000 up, FROM ≤ TO)`);
  }
  return { from, to };
}

export function rangesOverlap(a: UidRange, b: UidRange): boolean {
  return a.from <= b.to && b.from <= a.to;
}

export interface UidBlockOptions {
  /** the table's file in the data directory */
  file: string;
  /** how many ids each user is given, one after another */
  blockSize: number;
  /** the flag that sets the range, named when it is used up */
  flag: string;
}

/**
 * Each Corral user's own unprivileged ids on this machine: one uid for host tasks
 * (TaskUids), a block of 65536 for the user namespaces of containers (ContainerIds), so that
 * no task runs as root and tasks of different users cannot read each other's files or signal
 * each other's processes. A user keeps their ids for good: the table lives in the borglet's
 * data directory, so a restarted borglet (and a task it adopts) sees the same owner.
 */
export class UidBlocks {
  private readonly file: string;
  private readonly byUser: Map<string, number>;

  constructor(
    dataDir: string,
    readonly range: UidRange,
    readonly options: UidBlockOptions,
  ) {
    this.file = join(dataDir, options.file);
    this.byUser = new Map(existsSync(this.file) ? Object.entries(JSON.parse(readFileSync(this.file, "utf8")) as Record<string, number>) : []);
  }

  /** The first id of the user's block (their uid and gid when a block is one id). */
  of(user: string): TaskIdentity {
    let first = this.byUser.get(user);
    if (first === undefined) {
      const taken = new Set(this.byUser.values());
      const { blockSize } = this.options;
      for (let candidate = this.range.from; candidate + blockSize - 1 <= this.range.to && first === undefined; candidate += blockSize) if (!taken.has(candidate)) first = candidate;
      if (first === undefined) throw new Error(`every ${blockSize === 1 ? "uid" : `block of ${blockSize} ids`} of ${this.options.flag} ${this.range.from}-${this.range.to} has a user; widen the range`);
      this.byUser.set(user, first);
      // Written whole and renamed: a borglet killed mid-write must not lose who owns what.
      const partial = `${this.file}.partial`;
      writeFileSync(partial, JSON.stringify(Object.fromEntries(this.byUser)));
      renameSync(partial, this.file);
    }
    return { uid: first, gid: first };
  }
}

/** Host tasks: each user's one uid and gid. */
export class TaskUids extends UidBlocks {
  constructor(dataDir: string, range: UidRange) {
    super(dataDir, range, { file: "task-uids.json", blockSize: 1, flag: "--task-uids" });
  }
}

/** The ids a container's user namespace maps: 0 to 65535 inside, as Kubernetes gives a pod. */
export const CONTAINER_ID_COUNT = 65_536;

/** Containers: each user's block of host ids, onto which their containers' ids 0…65535 map. */
export class ContainerIds extends UidBlocks {
  constructor(dataDir: string, range: UidRange) {
    super(dataDir, range, { file: "container-uids.json", blockSize: CONTAINER_ID_COUNT, flag: "--container-uids" });
  }
}
