import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AuditRecord } from "@corral/contracts";
import { writeAuditRecord, type Logger, type NatsConnection } from "@corral/kit";

declare module "fastify" {
  interface FastifyRequest {
    /** the job or user a change is about, where the route knows it better than its URL says (a submission's job id) */
    auditTarget: string | undefined;
    /** the error code the request was answered with, as the gateway's error handlers set it */
    failureCode: string | undefined;
  }
}

const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);
/**
 * Dry runs change nothing, so they are not recorded; nor do the parts of a layer upload, which
 * wait aside (and expire) until the layer is committed, and that is recorded.
 */
const NOT_CHANGES: ReadonlySet<string> = new Set(["POST /v1/plan", "POST /v1/images/uploads", "PUT /v1/images/uploads/:upload/:part"]);
const ACTIONS: Readonly<Record<string, string>> = {
  "POST /v1/jobs": "job.submit",
  "DELETE /v1/jobs/:job": "job.kill",
  "POST /v1/jobs/:job/scale": "job.scale",
  "PUT /v1/jobs/:job": "job.update",
  "POST /v1/jobs/:job/rollout": "job.rollout",
  "POST /v1/users": "user.add",
  "DELETE /v1/users/:name": "user.revoke",
  "POST /v1/images/layers": "image.layer",
  "POST /v1/images": "image.push",
};

/**
 * Every change asked of the cell through this gateway, allowed, refused or failed, goes to
 * the cell's audit stream, under the asker's name: who, what, which, when, from where, and
 * how it ended. It is written once the answer has gone, so it never slows the request; a
 * record that cannot be written is logged as an error, never dropped in silence.
 */
export class AuditLog {
  constructor(
    private readonly nc: NatsConnection,
    private readonly cell: string,
    private readonly gateway: string,
    private readonly log: Logger,
  ) {}

  /** Records each change once it has been answered. */
  recordChanges(app: FastifyInstance): void {
    app.decorateRequest("auditTarget", undefined);
    app.decorateRequest("failureCode", undefined);
    app.addHook("onResponse", async (request, reply) => {
      if (SAFE_METHODS.has(request.method)) return;
      const route = `${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]}`;
      if (NOT_CHANGES.has(route)) return;
      this.write(this.recordOf(request, route, reply.statusCode));
    });
  }

  private recordOf(request: FastifyRequest, route: string, status: number): AuditRecord {
    const params = request.params as Record<string, string> | undefined;
    const target = request.auditTarget ?? params?.["job"] ?? params?.["name"];
    const identity = request.identity as FastifyRequest["identity"] | undefined;
    return {
      at: new Date().toISOString(),
      ...(identity === undefined ? {} : { user: identity.name, role: identity.role }),
      action: ACTIONS[route] ?? route.slice(0, 300),
      ...(target === undefined ? {} : { target: target.slice(0, 300) }),
      address: request.ip,
      status,
      outcome: status < 400 ? "ok" : status < 500 ? "refused" : "failed",
      ...(request.failureCode === undefined ? {} : { code: request.failureCode }),
      gateway: this.gateway,
    };
  }

  private write(record: AuditRecord): void {
    writeAuditRecord(this.nc, this.cell, record).catch((error: unknown) => {
      this.log.error({ err: (error as Error).message, action: record.action, user: record.user, target: record.target }, "could not write an audit record");
    });
  }
}
