import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { CorralError, jobStatus, readLogs, subjects } from "@corral/contracts";
import { callRpc } from "@corral/kit";
import { logsQuerySchema, validate } from "../requests.js";
import { cellJob, leaderCall, type RouteContext } from "./route-context.js";

/**
 * `GET /v1/jobs/{job}/tasks/{index}/logs`: a task's output, read from the borglet of the
 * machine it runs on, which is why the task's placement is looked up first.
 */
export function registerTaskLogs(app: FastifyInstance, ctx: RouteContext): void {
  const { nc } = ctx;
  app.get<{ Params: { job: string; index: string } }>("/v1/jobs/:job/tasks/:index/logs", async (request, reply) => {
    const { id, cell } = await cellJob(ctx, request.params.job, request.identity, "read logs of", "logs");
    const index = validate(z.coerce.number().int().min(0), request.params.index, "index");
    const query = validate(logsQuerySchema, request.query, "query");
    const { jobs } = await callRpc(nc, subjects.api(cell, "status"), jobStatus, cell, { job: id }, leaderCall(ctx));
    const task = jobs[0]?.tasks[index];
    if (task === undefined) throw new CorralError("not_found", `job ${id} has no task ${index}`, "index");
    if (task.node === undefined) throw new CorralError("not_found", `task ${task.id} is ${task.state} and has no machine, so no logs`, "index");
    const logs = await callRpc(nc, subjects.nodeLogs(cell, task.node), readLogs, cell, {
      taskId: task.id,
      stream: query.stream,
      tailBytes: query.tail,
      ...(query.from === undefined ? {} : { from: query.from }),
    });
    if (query.format === "json") return reply.send({ task: task.id, state: task.state, ...logs });
    return reply
      .header("content-type", "text/plain; charset=utf-8")
      .header("x-corral-log-size", String(logs.size))
      .header("x-corral-log-truncated", String(logs.truncated))
      .send(logs.text);
  });
}
