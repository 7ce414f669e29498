import type { ErrorCode } from "./errors.js";

/** One problem in a refused spec, where it could be placed in the file. */
export interface ApiIssue {
  file: string;
  line?: number;
  column?: number;
  field?: string;
  message: string;
}

/** What the gateway sends with every refusal, with the status its code maps to (README § HTTP API). */
export interface ApiErrorBody {
  error: { code: ErrorCode; message: string; field?: string; issues?: ApiIssue[] };
}
