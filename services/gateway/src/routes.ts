import type { FastifyInstance } from "fastify";
import { registerAudit } from "./routes/audit.js";
import { registerCells } from "./routes/cells.js";
import { registerImages } from "./routes/images.js";
import { registerJobReads } from "./routes/job-reads.js";
import { registerJobWrites } from "./routes/job-writes.js";
import type { RouteContext } from "./routes/route-context.js";
import { registerTaskLogs } from "./routes/task-logs.js";
import { registerUsers } from "./routes/users.js";
import { registerLiveStream } from "./ui/live-stream.js";
import { registerUi } from "./ui/ui-routes.js";

export type { RouteContext } from "./routes/route-context.js";

/** The gateway's HTTP API (README § HTTP API) and its web UI, one group of routes per concern. */
export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  registerCells(app, ctx);
  registerJobWrites(app, ctx);
  registerJobReads(app, ctx);
  registerTaskLogs(app, ctx);
  registerImages(app, ctx);
  registerUsers(app, ctx.users);
  registerAudit(app, ctx);
  registerLiveStream(app, ctx.nc, ctx.cells);
  registerUi(app, { home: ctx.cell, cells: ctx.cells, federated: ctx.federation !== undefined });
}
