import { KvWatchInclude, type KV, type KvEntry } from "@nats-io/kv";
import { CorralError, userRecordSchema, usersBucket, type Identity, type Role, type UserRecord, type UserView } from "@corral/contracts";
import { followKv, newToken, openKvBucket, safeJson, tokenSha256, type Logger, type NatsConnection } from "@corral/kit";

const KEY_PREFIX = "user.";

/** The user the cell was started with: its token comes from a file, not from the bucket, so it cannot be revoked through the API. */
export interface BootstrapAdmin {
  name: string;
  token: string;
}

const withoutHash = ({ tokenSha256: _hash, ...view }: UserRecord): UserView => view;

/**
 * The cell's users, kept in a NATS KV bucket that every gateway of the cell watches: a user
 * added or revoked at one gateway is known to the others as soon as the watch delivers it.
 * Requests are checked against the copy in memory, so authenticating costs no round trip.
 */
export class UserRegistry {
  /** by token hash */
  private readonly byToken = new Map<string, UserRecord>();
  /** by name, with the revision of the bucket entry, so a late watch entry never undoes a newer one */
  private readonly byName = new Map<string, { record: UserRecord | undefined; revision: number }>();
  private kv: KV | undefined;
  private stopWatching: (() => void) | undefined;
  private readonly bootstrap: (Identity & { tokenSha256: string }) | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly cell: string,
    private readonly log: Logger,
    private readonly jsReplicas: number,
    bootstrap: BootstrapAdmin | undefined,
  ) {
    this.bootstrap = bootstrap === undefined ? undefined : { name: bootstrap.name, role: "admin", tokenSha256: tokenSha256(bootstrap.token) };
  }

  /** Loads every user before the gateway serves: a valid token must never be refused for having come first. */
  async start(): Promise<void> {
    const kv = await openKvBucket(this.nc, usersBucket(this.cell), { history: 1, replicas: this.jsReplicas }, this.log);
    this.kv = kv;
    // Watch first, then read what is there: an update in between arrives on the watch, and
    // revisions order the two. Done again whenever the watch is reopened after a failure.
    const open = async () => {
      const watch = await kv.watch({ key: `${KEY_PREFIX}>`, include: KvWatchInclude.UpdatesOnly });
      try {
        for await (const key of await kv.keys(`${KEY_PREFIX}>`)) {
          const entry = await kv.get(key);
          if (entry !== null) this.apply(entry);
        }
      } catch (error) {
        watch.stop();
        throw error;
      }
      return watch;
    };
    // The first read completes before the gateway serves; later ones happen as the watch is reopened.
    this.stopWatching = followKv(open, (entry) => this.apply(entry), this.log, usersBucket(this.cell), { first: await open() });
  }

  stop(): void {
    this.stopWatching?.();
  }

  /** Who holds this token, or undefined: never issued, or revoked. */
  identify(token: string): Identity | undefined {
    const hash = tokenSha256(token);
    if (this.bootstrap !== undefined && hash === this.bootstrap.tokenSha256) return { name: this.bootstrap.name, role: "admin" };
    const record = this.byToken.get(hash);
    return record === undefined ? undefined : { name: record.name, role: record.role };
  }

  /** A user of the cell by name, as someone an OIDC issuer vouched for; undefined: not a user here (or revoked). */
  named(name: string): Identity | undefined {
    if (this.bootstrap !== undefined && name === this.bootstrap.name) return { name, role: "admin" };
    const record = this.byName.get(name)?.record;
    return record === undefined ? undefined : { name: record.name, role: record.role };
  }

  list(): UserView[] {
    const users = [...this.byName.values()].flatMap((entry) => (entry.record === undefined ? [] : [withoutHash(entry.record)]));
    if (this.bootstrap !== undefined) users.push({ name: this.bootstrap.name, role: "admin", createdAt: "", createdBy: this.bootstrap.name });
    return users.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** A new user and its token, which is shown this once: only its hash is kept. */
  async add(name: string, role: Role, by: string): Promise<{ user: UserView; token: string }> {
    if (name === this.bootstrap?.name) throw new CorralError("conflict", `user ${name} is the cell's own admin (from its token file); choose another name`, "name");
    const token = newToken();
    const record: UserRecord = { name, role, tokenSha256: tokenSha256(token), createdAt: new Date().toISOString(), createdBy: by };
    let revision: number;
    try {
      // create, not put: two admins adding one name at once get one user and one conflict.
      revision = await this.bucket().create(`${KEY_PREFIX}${name}`, JSON.stringify(record));
    } catch (error) {
      if (/wrong last sequence|exists/i.test((error as Error).message)) {
        throw new CorralError("conflict", `user ${name} exists; to give them a new token, revoke the old one (corral user revoke ${name}) and add them again`, "name");
      }
      throw error;
    }
    this.remember(name, record, revision);
    return { user: withoutHash(record), token };
  }

  /** Takes the user's token back at once, here and, through the watch, at every other gateway. */
  async revoke(name: string): Promise<UserView> {
    if (name === this.bootstrap?.name) throw new CorralError("bad_request", `user ${name} is the cell's own admin, whose token is in the file given to --admin-token-file; replace that file and restart the gateway instead`, "name");
    const known = this.byName.get(name)?.record;
    if (known === undefined) throw new CorralError("not_found", `no user ${name}; corral user ls lists them`, "name");
    await this.bucket().delete(`${KEY_PREFIX}${name}`);
    // Refused here at once, not when the watch brings the deletion back.
    this.byToken.delete(known.tokenSha256);
    this.byName.set(name, { record: undefined, revision: this.byName.get(name)?.revision ?? 0 });
    return withoutHash(known);
  }

  private bucket(): KV {
    if (this.kv === undefined) throw new CorralError("unavailable", "the user registry has not started");
    return this.kv;
  }

  /** An entry of the bucket, which anyone on NATS could write: one that does not parse is ignored, not trusted. */
  private apply(entry: KvEntry): void {
    const name = entry.key.slice(KEY_PREFIX.length);
    if (entry.operation !== "PUT") {
      this.remember(name, undefined, entry.revision);
      return;
    }
    const parsed = userRecordSchema.safeParse(safeJson(entry.string()));
    if (!parsed.success || parsed.data.name !== name) {
      this.log.warn({ key: entry.key }, "ignored a user record that does not parse");
      return;
    }
    this.remember(name, parsed.data, entry.revision);
  }

  private remember(name: string, record: UserRecord | undefined, revision: number): void {
    const known = this.byName.get(name);
    if (known !== undefined && known.revision >= revision) return;
    if (known?.record !== undefined) this.byToken.delete(known.record.tokenSha256);
    this.byName.set(name, { record, revision });
    if (record !== undefined) this.byToken.set(record.tokenSha256, record);
  }
}
