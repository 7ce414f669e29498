import Fastify from "fastify";
import { z } from "zod";
import { cellNameSchema } from "@corral/contracts";
import { connectNats, createLogger, exitOnUncaught, loadFlags, onShutdown } from "@corral/kit";
import { httpError } from "./http-errors.js";
import { registerRoutes } from "./routes.js";

const flags = loadFlags(
  "corral-gateway",
  process.argv.slice(2),
  {
    cell: { type: "string", default: "local" },
    nats: { type: "string", default: "nats://127.0.0.1:4222" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8080" },
    "leader-wait-ms": { type: "string", default: "10000" },
  },
  z.object({
    cell: cellNameSchema,
    nats: z.string().min(1),
    host: z.string().min(1),
    port: z.coerce.number().int().min(1).max(65535),
    leaderWaitMs: z.coerce.number().int().min(0).max(120_000),
  }),
);

const log = createLogger("gateway", flags.cell);
exitOnUncaught(log);
const nc = await connectNats(flags.nats, `gateway@${flags.cell}`, log);
// Fastify's own logger stays off: the gateway logs what matters through its pino logger.
const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
// Raw spec text is accepted too: `curl --data-binary @job.borg -H 'content-type: text/plain'`.
app.addContentTypeParser("text/plain", { parseAs: "string" }, (_request, body, done) => done(null, { source: body, format: "borg" }));
app.addContentTypeParser("application/yaml", { parseAs: "string" }, (_request, body, done) => done(null, { source: body, format: "yaml" }));
app.setErrorHandler((error, request, reply) => {
  const { status, body } = httpError(error);
  if (status >= 500) log.error({ err: error, url: request.url }, "request failed");
  void reply.code(status).send(body);
});
app.setNotFoundHandler((request, reply) => {
  void reply.code(404).send({ error: { code: "not_found", message: `no route ${request.method} ${request.url}; see README § HTTP API` } });
});
registerRoutes(app, { nc, cell: flags.cell, leaderWaitMs: flags.leaderWaitMs });
await app.listen({ host: flags.host, port: flags.port });

onShutdown(log, async () => {
  await app.close();
  await nc.drain().catch(() => {});
});
log.info({ url: `http://${flags.host}:${flags.port}` }, "gateway listening");
