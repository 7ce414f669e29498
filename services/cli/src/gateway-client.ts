import type { CellSummary, FederatedJobView, HistoryEntry, JobPlan, JobView, NodeView, WhyPending } from "@corral/contracts";

export interface ApiIssue {
  file: string;
  line?: number;
  column?: number;
  field?: string;
  message: string;
}

/** A refusal from the gateway, or no gateway at all; the CLI prints it and exits non-zero. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly issues: ApiIssue[] = [],
  ) {
    super(message);
  }
}

/** The gateway's HTTP API (README § HTTP API), typed for the CLI. */
/** A gateway's job list; a federation's also has its federated jobs, and the cells that did not answer. */
export interface JobList {
  jobs: JobView[];
  federated?: FederatedJobView[];
  stale?: boolean;
  unreachable?: string[];
}

export class GatewayClient {
  constructor(
    readonly baseUrl: string,
    private readonly user: string,
  ) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { "x-corral-user": this.user, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new ApiError(`no gateway answers at ${this.baseUrl} (${(error as Error).message}); is the cell up? Try: corral cell up`, 0, "unavailable");
    }
    const text = await response.text();
    if (!response.ok) {
      let parsed: { error?: { code?: string; message?: string; issues?: ApiIssue[] } } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // not JSON: report the raw text
      }
      throw new ApiError(parsed.error?.message ?? text, response.status, parsed.error?.code ?? "internal", parsed.error?.issues ?? []);
    }
    const contentType = response.headers.get("content-type") ?? "";
    return (contentType.includes("application/json") ? JSON.parse(text) : text) as T;
  }

  plan(source: string, file: string, format?: "borg" | "yaml" | "json"): Promise<JobPlan> {
    return this.request("POST", "/v1/plan", format === undefined ? { source, file } : { source, file, format });
  }

  submit(source: string, file: string, format?: "borg" | "yaml" | "json"): Promise<{ job: JobView }> {
    return this.request("POST", "/v1/jobs", format === undefined ? { source, file } : { source, file, format });
  }

  scale(name: string, replicas: number): Promise<{ job: JobView }> {
    return this.request("POST", `/v1/jobs/${encodeURIComponent(name)}/scale`, { replicas });
  }

  cells(): Promise<{ cells: CellSummary[]; reconciler: string | null }> {
    return this.request("GET", "/v1/cells");
  }

  /** This user's jobs, every page of them. */
  jobs(selector?: string): Promise<JobList> {
    return this.listPages({ user: this.user, ...(selector === undefined ? {} : { selector }) });
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

  why(name: string): Promise<WhyPending> {
    return this.request("GET", `/v1/jobs/${encodeURIComponent(name)}/why`);
  }

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

  nodes(): Promise<{ nodes: NodeView[] }> {
    return this.request("GET", "/v1/nodes");
  }
}
