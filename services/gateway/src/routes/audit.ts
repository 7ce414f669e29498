import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { userNameSchema } from "@corral/contracts";
import { readAuditRecords } from "@corral/kit";
import { durationQuery, validate } from "../requests.js";
import { authorizeAdmin } from "../auth/authorization.js";
import type { RouteContext } from "./route-context.js";

const MAX_RECORDS = 10_000;

const auditQuerySchema = z.strictObject({
  since: durationQuery("since").default(60 * 60_000),
  user: userNameSchema.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_RECORDS, `limit: at most ${MAX_RECORDS}`).default(1000),
});

/** `GET /v1/audit?since=1h&user=NAME&limit=N` (admins): the changes asked of the cell, oldest first. */
export function registerAudit(app: FastifyInstance, ctx: RouteContext): void {
  app.get("/v1/audit", async (request) => {
    authorizeAdmin(request.identity, "read the audit log");
    const query = validate(auditQuerySchema, request.query, "query");
    return readAuditRecords(ctx.nc, ctx.cell, { sinceMs: query.since, limit: query.limit, ...(query.user === undefined ? {} : { user: query.user }) });
  });
}
