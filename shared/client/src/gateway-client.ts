import { Agent, fetch } from "undici";
import type { ApiErrorBody, ApiIssue, AuditRecord, CellSummary, CommitLayerBody, FederatedJobView, HistoryEntry, Identity, ImageRecord, JobPlan, JobView, NodeView, RecordImageBody, RevisionView, Role, UserView, WhyPending } from "@corral/contracts";

/** A refusal from the gateway (with its status and code), or no gateway at all (status 0, `unavailable`). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly issues: ApiIssue[] = [],
    readonly field?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** A reply as it came: its status, its body (JSON decoded, else text), and its size. */
export interface GatewayReply<T> {
  status: number;
  body: T;
  bytes: number;
}

/** A gateway's job list; a federation's also has its federated jobs, and the cells that did not answer. */
export interface JobList {
  jobs: JobView[];
  federated?: FederatedJobView[];
  stale?: boolean;
  unreachable?: string[];
}

export type SpecFormat = "borg" | "yaml" | "json";

/** What an update did (or, dry, would do): the job, its revision, the fields changed and how. */
export interface UpdateAnswer {
  job: JobView;
  revision: number;
  change: { fields: string[]; kind: "none" | "in-place" | "replace" };
  applied: boolean;
  replaces?: { tasks: number; maxParallel: number };
}

export interface GatewayClientOptions {
  /** who acts: the bearer token the gateway knows them by (none: only the gateway's public routes answer) */
  token: string | undefined;
  /** a request that takes longer fails (default 30 s) */
  timeoutMs?: number;
  /** the CA certificate (PEM text) an HTTPS gateway's certificate must be signed by; default: the system's */
  ca?: string | undefined;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** A committed layer is read back, hashed and compressed by the gateway: waited for at 1 MB/s at least. */
const COMMIT_BYTES_PER_MS = 1000;

/**
 * The gateway's HTTP API, typed from the contracts: the one client the CLI, the tests and
 * the load tests use. Each method returns what the gateway answered, or throws ApiError
 * with its status, code and text.
 */
export class GatewayClient {
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  /** trusts the cell's own CA, where one was given */
  private readonly dispatcher: Agent | undefined;
  private identity: Promise<Identity> | undefined;

  constructor(
    readonly baseUrl: string,
    options: GatewayClientOptions,
  ) {
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.dispatcher = options.ca === undefined ? undefined : new Agent({ connect: { ca: options.ca } });
  }

  /**
   * One request, answered however the gateway answered it (refusals too: tests assert on
   * them). A string body goes as spec text, bytes as themselves, anything else as JSON; `headers` may replace the
   * token's. Throws ApiError only when no gateway answers.
   */
  async send<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = this.timeoutMs): Promise<GatewayReply<T>> {
    let response: Awaited<ReturnType<typeof fetch>>;
    const bytes = body instanceof Uint8Array;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        ...(this.dispatcher === undefined ? {} : { dispatcher: this.dispatcher }),
        method,
        headers: {
          ...(this.token === undefined ? {} : { authorization: `Bearer ${this.token}` }),
          ...(body === undefined ? {} : { "content-type": bytes ? "application/octet-stream" : typeof body === "string" ? "text/plain" : "application/json" }),
          ...headers,
        },
        body: body === undefined ? null : bytes ? body : typeof body === "string" ? body : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new ApiError(`no gateway answers at ${this.baseUrl} (${(error as Error).message}); is the cell up? Try: corral cell up`, 0, "unavailable");
    }
    const text = await response.text();
    const isJson = (response.headers.get("content-type") ?? "").includes("json");
    return { status: response.status, body: (isJson ? JSON.parse(text) : text) as T, bytes: Buffer.byteLength(text) };
  }

  /** The body of a success; a refusal becomes an ApiError. */
  private async request<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    const reply = await this.send<T | ApiErrorBody | string>(method, path, body, {}, timeoutMs);
    if (reply.status >= 200 && reply.status < 300) return reply.body as T;
    const refusal = typeof reply.body === "object" && reply.body !== null && "error" in reply.body ? reply.body.error : undefined;
    throw new ApiError(refusal?.message ?? String(reply.body), reply.status, refusal?.code ?? "internal", refusal?.issues ?? [], refusal?.field);
  }

  plan(source: string, file: string, format?: SpecFormat): Promise<JobPlan> {
    return this.request("POST", "/v1/plan", format === undefined ? { source, file } : { source, file, format });
  }

  submit(source: string, file: string, format?: SpecFormat): Promise<{ job: JobView }> {
    return this.request("POST", "/v1/jobs", format === undefined ? { source, file } : { source, file, format });
  }

  /** Moves job `name` to the spec in `source`: in place, or by a rollout; `dryRun` only says what would change. */
  update(name: string, source: string, file: string, format: SpecFormat | undefined, options: { dryRun?: boolean; force?: boolean } = {}): Promise<UpdateAnswer> {
    const query = new URLSearchParams();
    if (options.dryRun === true) query.set("dry_run", "true");
    if (options.force === true) query.set("force", "true");
    const path = `/v1/jobs/${encodeURIComponent(name)}${query.size === 0 ? "" : `?${query.toString()}`}`;
    return this.request("PUT", path, format === undefined ? { source, file } : { source, file, format });
  }

  /** Pauses, resumes or promotes the job's rollout, or undoes its latest revision (to `toRevision`'s spec, if given). */
  rollout(name: string, action: "pause" | "resume" | "promote" | "undo", toRevision?: number): Promise<{ job: JobView; revision: number }> {
    return this.request("POST", `/v1/jobs/${encodeURIComponent(name)}/rollout`, toRevision === undefined ? { action } : { action, to_revision: toRevision });
  }

  /** The job's revisions, oldest first. */
  revisions(name: string): Promise<{ job: string; revision: number; revisions: RevisionView[] }> {
    return this.request("GET", `/v1/jobs/${encodeURIComponent(name)}/revisions`);
  }

  scale(name: string, replicas: number): Promise<{ job: JobView }> {
    return this.request("POST", `/v1/jobs/${encodeURIComponent(name)}/scale`, { replicas });
  }

  cells(): Promise<{ cells: CellSummary[]; reconciler: string | null }> {
    return this.request("GET", "/v1/cells");
  }

  /** Who the token belongs to, as the gateway says (asked once). */
  whoami(): Promise<Identity> {
    this.identity ??= this.request<{ user: Identity }>("GET", "/v1/whoami").then((answer) => answer.user);
    return this.identity;
  }

  /** The caller's own jobs, every page of them. */
  async jobs(selector?: string): Promise<JobList> {
    const { name } = await this.whoami();
    return this.listPages({ user: name, ...(selector === undefined ? {} : { selector }) });
  }

  users(): Promise<{ users: UserView[] }> {
    return this.request("GET", "/v1/users");
  }

  /** A new user; the answer holds their token, which is never shown again. */
  addUser(name: string, role: Role): Promise<{ user: UserView; token: string }> {
    return this.request("POST", "/v1/users", { name, role });
  }

  /** (admins) the changes asked of the cell since `since` (like `1h`), oldest first; `more` when `limit` cut them short. */
  audit(query: { since?: string; user?: string; limit?: number }): Promise<{ records: AuditRecord[]; more: boolean }> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    return this.request("GET", `/v1/audit?${params.toString()}`);
  }

  revokeUser(name: string): Promise<{ user: UserView }> {
    return this.request("DELETE", `/v1/users/${encodeURIComponent(name)}`);
  }

  /** Every user's jobs, every page of them. */
  allJobs(selector?: string): Promise<JobList> {
    return this.listPages(selector === undefined ? {} : { selector });
  }

  /** The list is paged by the gateway; a page's `continue` token asks for the next. */
  private async listPages(query: Record<string, string>): Promise<JobList> {
    const all: JobList = { jobs: [] };
    let token: string | undefined;
    do {
      const params = new URLSearchParams({ ...query, ...(token === undefined ? {} : { continue: token }) });
      const page = await this.request<JobList & { continue?: string }>("GET", `/v1/jobs?${params.toString()}`);
      all.jobs.push(...page.jobs);
      if (page.federated !== undefined) all.federated = [...(all.federated ?? []), ...page.federated];
      if (page.stale === true) all.stale = true;
      if (page.unreachable !== undefined) all.unreachable = [...new Set([...(all.unreachable ?? []), ...page.unreachable])].sort();
      token = page.continue;
    } while (token !== undefined);
    return all;
  }

  /** A job with all its tasks: a big job's come a page at a time. */
  async job(name: string): Promise<{ job: JobView; stale?: boolean }> {
    const first = await this.request<{ job: JobView; stale?: boolean; continue?: string }>("GET", `/v1/jobs/${encodeURIComponent(name)}`);
    const tasks = [...first.job.tasks];
    for (let token = first.continue; token !== undefined; ) {
      const page = await this.request<{ job: JobView; continue?: string }>("GET", `/v1/jobs/${encodeURIComponent(name)}?continue=${encodeURIComponent(token)}`);
      tasks.push(...page.job.tasks);
      token = page.continue;
    }
    const { moreTasksFrom: _whole, ...job } = first.job;
    return { job: { ...job, tasks }, ...(first.stale === undefined ? {} : { stale: first.stale }) };
  }

  /** A federated job as a federation's gateway shows it, with the size of the reply. */
  async federatedJob(name: string): Promise<{ job: FederatedJobView; bytes: number }> {
    const reply = await this.send<{ job?: FederatedJobView } & Partial<ApiErrorBody>>("GET", `/v1/jobs/${encodeURIComponent(name)}`);
    if (reply.status !== 200 || reply.body.job === undefined) throw new ApiError(reply.body.error?.message ?? `status ${reply.status}`, reply.status, reply.body.error?.code ?? "internal");
    return { job: reply.body.job, bytes: reply.bytes };
  }

  why(name: string): Promise<WhyPending> {
    return this.request("GET", `/v1/jobs/${encodeURIComponent(name)}/why`);
  }

  /** Stops every task of the job; `grace` (like `5s`) replaces the job's own grace period for this stop. */
  kill(name: string, grace?: string): Promise<{ job: JobView }> {
    return this.request("DELETE", `/v1/jobs/${encodeURIComponent(name)}${grace === undefined ? "" : `?grace=${encodeURIComponent(grace)}`}`);
  }

  logs(name: string, index: number, stream: "stdout" | "stderr", tail: number): Promise<string> {
    return this.request("GET", `/v1/jobs/${encodeURIComponent(name)}/tasks/${index}/logs?stream=${stream}&tail=${tail}`);
  }

  /** The tail, or with `from` the bytes after it, with the file's size and the task's state (for --follow). */
  logsRead(name: string, index: number, stream: "stdout" | "stderr", where: { tail: number } | { from: number }): Promise<{ text: string; size: number; start?: number; state: string }> {
    const range = "from" in where ? `from=${where.from}` : `tail=${where.tail}`;
    return this.request("GET", `/v1/jobs/${encodeURIComponent(name)}/tasks/${index}/logs?stream=${stream}&${range}&format=json`);
  }

  events(name: string): Promise<{ job: string; events: HistoryEntry[] }> {
    return this.request("GET", `/v1/jobs/${encodeURIComponent(name)}/events`);
  }

  /** The cell's images, by name then tag. */
  images(): Promise<{ images: ImageRecord[] }> {
    return this.request("GET", "/v1/images");
  }

  /** Whether the cell holds a layer already (then a push need not send it). */
  layerPresent(digest: string): Promise<{ digest: string; present: boolean }> {
    return this.request("GET", `/v1/images/layers/${encodeURIComponent(digest)}`);
  }

  /** A new upload, whose parts of at most `partBytes` are sent with uploadPart and then committed as one layer. */
  startUpload(): Promise<{ upload: string; partBytes: number }> {
    return this.request("POST", "/v1/images/uploads");
  }

  async uploadPart(upload: string, part: number, bytes: Uint8Array): Promise<void> {
    await this.request("PUT", `/v1/images/uploads/${upload}/${part}`, bytes);
  }

  /**
   * Stores the layer the upload's parts make up, once the gateway found them to hash to
   * `digest`: that reads the whole layer back, so it is given time by its size.
   */
  commitLayer(body: CommitLayerBody): Promise<{ digest: string; present: boolean; storedBytes: number }> {
    return this.request("POST", "/v1/images/layers", body, Math.max(this.timeoutMs, body.size / COMMIT_BYTES_PER_MS));
  }

  /** Records `ref` (in the caller's namespace, unless an admin) as these layers, already in the cell, and config. */
  recordImage(body: RecordImageBody): Promise<{ image: ImageRecord }> {
    return this.request("POST", "/v1/images", body);
  }

  nodes(): Promise<{ nodes: NodeView[] }> {
    return this.request("GET", "/v1/nodes");
  }
}
