import type { JobView, NodeView } from "@corral/contracts";

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

  submit(source: string, file: string, format?: "borg" | "yaml" | "json"): Promise<{ job: JobView }> {
    return this.request("POST", "/v1/jobs", format === undefined ? { source, file } : { source, file, format });
  }

  jobs(): Promise<{ jobs: JobView[]; stale?: boolean }> {
    return this.request("GET", `/v1/jobs?user=${encodeURIComponent(this.user)}`);
  }

  allJobs(): Promise<{ jobs: JobView[]; stale?: boolean }> {
    return this.request("GET", "/v1/jobs");
  }

  job(name: string): Promise<{ job: JobView; stale?: boolean }> {
    return this.request("GET", `/v1/jobs/${encodeURIComponent(name)}`);
  }

  kill(name: string): Promise<{ job: JobView }> {
    return this.request("DELETE", `/v1/jobs/${encodeURIComponent(name)}`);
  }

  logs(name: string, index: number, stream: "stdout" | "stderr", tail: number): Promise<string> {
    return this.request("GET", `/v1/jobs/${encodeURIComponent(name)}/tasks/${index}/logs?stream=${stream}&tail=${tail}`);
  }

  nodes(): Promise<{ nodes: NodeView[] }> {
    return this.request("GET", "/v1/nodes");
  }
}
