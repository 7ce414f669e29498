/** Error codes every reply may carry; HTTP status is derived from them at the gateway. */
export const ERROR_CODES = [
  "bad_request", // the input failed validation; nothing changed
  "unauthenticated", // no credentials, or ones nobody issued (or since revoked); nothing changed
  "forbidden", // the caller is known but may not do this to that; nothing changed
  "not_found",
  "conflict", // e.g. a live job with that name exists
  "quota_exceeded", // the job would take its user past their quota in its band; nothing changed
  "not_leader", // this master is not (or no longer) the leader
  "stale_epoch", // a fenced write or command from a deposed leader
  "unavailable", // no leader, or a dependency down; retry
  "incompatible_state", // stored state written by a version this one cannot read
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  /** the offending field, dotted path */
  field?: string;
}

/** An error that crosses a process boundary with its code intact. */
export class CorralError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "CorralError";
  }

  toBody(): ErrorBody {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}
