import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Who a task runs as on this machine. */
export interface TaskIdentity {
  uid: number;
  gid: number;
}

/** `FROM-TO`: the uids (and gids alike) this machine hands its users' tasks. */
export function parseUidRange(text: string): { from: number; to: number } {
  const match = /^(\d+)-(\d+)$/.exec(text.trim());
  const from = Number(match?.[1]);
  const to = Number(match?.[2]);
  if (match === null || from < 1000 || to < from || to > 4_294_967_294) {
    throw new Error(`'${text}' is not a range of unprivileged uids like 2000000-2099999 (from 1000 up, FROM ≤ TO)`);
  }
  return { from, to };
}

/**
 * Each Corral user's own unprivileged uid and gid on this machine, so that no task runs as
 * root and tasks of different users cannot read each other's files or signal each other's
 * processes. A user keeps their uid for good: the table lives in the borglet's data
 * directory, so a restarted borglet (and a task it adopts) sees the same owner.
 */
export class TaskUids {
  private readonly file: string;
  private readonly byUser: Map<string, number>;

  constructor(
    dataDir: string,
    private readonly range: { from: number; to: number },
  ) {
    this.file = join(dataDir, "task-uids.json");
    this.byUser = new Map(existsSync(this.file) ? Object.entries(JSON.parse(readFileSync(this.file, "utf8")) as Record<string, number>) : []);
  }

  of(user: string): TaskIdentity {
    let uid = this.byUser.get(user);
    if (uid === undefined) {
      const taken = new Set(this.byUser.values());
      for (let candidate = this.range.from; candidate <= this.range.to && uid === undefined; candidate++) if (!taken.has(candidate)) uid = candidate;
      if (uid === undefined) throw new Error(`every uid of --task-uids ${this.range.from}-${this.range.to} has a user; widen the range`);
      this.byUser.set(user, uid);
      // Written whole and renamed: a borglet killed mid-write must not lose who owns what.
      const partial = `${this.file}.partial`;
      writeFileSync(partial, JSON.stringify(Object.fromEntries(this.byUser)));
      renameSync(partial, this.file);
    }
    return { uid, gid: uid };
  }
}
