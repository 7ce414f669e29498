import type { FastifyInstance } from "fastify";
import { CorralError, listNodes, subjects } from "@corral/contracts";
import { callRpc } from "@corral/kit";
import { cellQuerySchema, validate } from "../requests.js";
import { cellNamed, leaderCall, type RouteContext } from "./route-context.js";

/** What the gateway fronts: itself (healthz), a cell's machines, and a federation's cells. */
export function registerCells(app: FastifyInstance, ctx: RouteContext): void {
  const { nc, cell: home, federation } = ctx;

  app.get("/v1/healthz", async () => ({ ok: true, cell: home, cells: ctx.cells }));

  app.get("/v1/nodes", async (request) => {
    const { cell } = validate(cellQuerySchema, request.query, "query");
    const target = cellNamed(ctx, cell, "cell");
    return callRpc(nc, subjects.api(target, "nodes"), listNodes, target, {}, leaderCall(ctx));
  });

  app.get("/v1/cells", async () => {
    if (federation === undefined) throw new CorralError("not_found", `this gateway serves cell ${home} alone; corral cell status describes it`, "cells");
    return { cells: await federation.cellSummaries(), reconciler: (await federation.reconcilerHolder()) ?? null };
  });
}
