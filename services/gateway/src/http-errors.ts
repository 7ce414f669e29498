import { CorralError, type ApiErrorBody, type ErrorCode } from "@corral/contracts";
import { SpecError } from "@corral/spec";

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  quota_exceeded: 403,
  not_leader: 503,
  stale_epoch: 503,
  unavailable: 503,
  incompatible_state: 500,
  internal: 500,
};

/** Every failure leaves the gateway as `{error: {code, message, field?}}` with a matching status. */
export function httpError(error: unknown): { status: number; body: ApiErrorBody } {
  if (error instanceof SpecError) {
    const first = error.issues[0];
    const body: ApiErrorBody = { error: { code: "bad_request", message: error.message, issues: error.issues } };
    if (first?.field !== undefined) body.error.field = first.field;
    return { status: 400, body };
  }
  if (error instanceof CorralError) {
    const body: ApiErrorBody = { error: { code: error.code, message: error.message } };
    if (error.field !== undefined) body.error.field = error.field;
    return { status: STATUS[error.code], body };
  }
  const fastifyError = error as { statusCode?: number; message?: string; code?: string };
  if (typeof fastifyError.statusCode === "number" && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: fastifyError.statusCode, body: { error: { code: "bad_request", message: fastifyError.message ?? "bad request" } } };
  }
  return { status: 500, body: { error: { code: "internal", message: (error as Error)?.message ?? String(error) } } };
}
