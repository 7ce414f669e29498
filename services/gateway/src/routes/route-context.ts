import { CorralError } from "@corral/contracts";
import type { CallOptions, Logger, NatsConnection, ResendSignal } from "@corral/kit";
import type { Federation } from "../federation/federation.js";
import type { UserRegistry } from "../auth/user-registry.js";
import { resolveJobReference } from "../requests.js";
import type { Identity } from "@corral/contracts";
import { authorizeJob, type JobVerb } from "../auth/authorization.js";

/**
 * Per attempt, for requests a repeat cannot apply twice: a request that went to a leader
 * as it died is sent again after this long, which bounds what a failover costs a client.
 */
const IDEMPOTENT_ATTEMPT_MS = 1000;

export interface RouteContext {
  nc: NatsConnection;
  /** the home cell: where a job without runtime.cell goes, and what short names mean */
  cell: string;
  /** every cell behind this gateway (the home cell alone without a federation) */
  cells: readonly string[];
  federation?: Federation;
  /** how long a request waits for a leader during an election */
  leaderWaitMs: number;
  /** each cell's leader announcements: an idempotent request in flight to a dead leader is sent again when the next one serves */
  leaderChanges: ReadonlyMap<string, ResendSignal>;
  log: Logger;
  users: UserRegistry;
  /** copies JetStream keeps of the buckets the gateway makes (images, layers, uploads) */
  jsReplicas: number;
}

/** For a request to a cell's leader: during an election it waits for the next one, up to --leader-wait. */
export function leaderCall(ctx: RouteContext): CallOptions {
  return { timeoutMs: 5000, retryForMs: ctx.leaderWaitMs };
}

/**
 * For a request a repeat cannot apply twice (it carries a request id, or repeating it
 * changes nothing): it may be sent again after a timeout, and at once when a new leader
 * announces itself, so a leader dying with it in hand costs the client little.
 */
export function idempotentCall(ctx: RouteContext, cell: string): CallOptions {
  const signal = ctx.leaderChanges.get(cell);
  return { timeoutMs: IDEMPOTENT_ATTEMPT_MS, retryForMs: ctx.leaderWaitMs, idempotent: true, ...(signal === undefined ? {} : { resendOn: signal }) };
}

/** The cell a spec or a query names, which must be one behind this gateway. */
export function cellNamed(ctx: RouteContext, cell: string | undefined, field: string): string {
  if (cell === undefined) return ctx.cell;
  if (!ctx.cells.includes(cell)) {
    throw new CorralError(field === "job" ? "not_found" : "bad_request", `${field}: cell '${cell}' is not behind this gateway; it serves ${ctx.cells.join(", ")}`, field);
  }
  return cell;
}

/** A job a URL names: a federated job comes with the federation that keeps it, so its routes need not ask whether there is one. */
export type ReferencedJob = { kind: "cell"; id: string; cell: string } | { kind: "federated"; id: string; federation: Federation };

/**
 * A job reference from a URL (a short name is the caller's own job): a federated job, or a
 * job of one of the cells. Given a verb, the caller must be allowed it on that job, which is
 * checked before anything is asked of a cell.
 */
export async function referencedJob(ctx: RouteContext, reference: string, identity: Identity, verb?: JobVerb): Promise<ReferencedJob> {
  const { federation } = ctx;
  const found = await resolveJobReference(reference, identity.name, ctx.cell, async (id) => (federation === undefined ? false : federation.exists(id)));
  if (verb !== undefined) authorizeJob(identity, verb, found.id);
  if (found.kind === "cell") {
    cellNamed(ctx, found.cell, "job");
    return found;
  }
  if (federation === undefined) throw new CorralError("not_found", `no federated job ${found.id}: this gateway federates no cells`, "job");
  return { ...found, federation };
}

/** A job of one cell; a federated job's own routes are the few that make sense for all of it. */
export async function cellJob(ctx: RouteContext, reference: string, identity: Identity, verb: JobVerb, what: string): Promise<{ id: string; cell: string }> {
  const found = await referencedJob(ctx, reference, identity, verb);
  if (found.kind === "federated") {
    throw new CorralError("bad_request", `${found.id} is a federated job; ${what} works on one cell's part of it: use <job>.<user>.<cell>, e.g. ${found.id}.${found.federation.cells[0] ?? ctx.cell}`, "job");
  }
  return found;
}
