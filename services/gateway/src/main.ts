import { hostname } from "node:os";
import Fastify from "fastify";
import { z } from "zod";
import { cellNameSchema } from "@corral/contracts";
import { parseDuration } from "@corral/spec";
import { connectNats, LeaderChanges, parsedFlag, createLogger, exitOnUncaught, loadFlags, METRICS_FLAG_OPTIONS, metricsFlagShape, onShutdown, ServiceMetrics } from "@corral/kit";
import { httpError } from "./http-errors.js";
import { DnsServer } from "./dns-server.js";
import { NameTable } from "./name-table.js";
import { FederatedNames } from "./federation/federated-names.js";
import { Federation } from "./federation/federation.js";
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
    "dns-port": { type: "string", default: "0" },
    cells: { type: "string", default: "" },
    // Unique by default: two gateways of one name would both believe they hold the reconciler lease.
    name: { type: "string", default: `gateway-${hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 40)}-${process.pid}` },
    "cell-down-after": { type: "string", default: "10s" },
    "reconcile-every": { type: "string", default: "1s" },
    "federation-lease-ttl": { type: "string", default: "3s" },
    ...METRICS_FLAG_OPTIONS,
  },
  z.object({
    cell: cellNameSchema,
    nats: z.string().min(1),
    host: z.string().min(1),
    port: z.coerce.number().int().min(1).max(65535),
    leaderWaitMs: z.coerce.number().int().min(0).max(120_000),
    /** the DNS server's UDP port for the cell's names; 0: none */
    dnsPort: z.coerce.number().int().min(0).max(65535),
    /** a federation: every cell behind this gateway, comma-separated (--cell is the home cell, one of them) */
    cells: z
      .string()
      .transform((text) => (text === "" ? [] : text.split(",").map((cell) => cell.trim())))
      .pipe(z.array(cellNameSchema).refine((cells) => new Set(cells).size === cells.length, "a cell is named twice")),
    /** this gateway's name among the federation's gateways */
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "1-64 letters, digits, '_' or '-'"),
    cellDownAfter: parsedFlag(parseDuration).refine((ms) => ms >= 500, "at least 500ms"),
    reconcileEvery: parsedFlag(parseDuration).refine((ms) => ms >= 50 && ms <= 60_000, "between 50ms and 60s"),
    federationLeaseTtl: parsedFlag(parseDuration).refine((ms) => ms >= 500, "at least 500ms"),
    ...metricsFlagShape,
  }),
);
if (flags.cells.length > 0 && !flags.cells.includes(flags.cell)) {
  process.stderr.write(`corral-gateway: --cell ${flags.cell} is not one of --cells ${flags.cells.join(",")}; the home cell must be one of the federation's\n`);
  process.exit(2);
}

const log = createLogger("gateway", flags.cell);
exitOnUncaught(log);
// Its own exporter like every service's, not a route on the API: metrics stay on loopback
// (--metrics-host) while the API may listen on every interface.
const metrics = new ServiceMetrics("gateway", flags.cell);
await metrics.serve(flags, log);
const nc = await connectNats(flags.nats, `gateway@${flags.cell}`, log, metrics.connections);
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
const cells = flags.cells.length > 0 ? flags.cells : [flags.cell];
const federation =
  flags.cells.length > 0
    ? await Federation.start(nc, { name: flags.name, cells, cellDownAfterMs: flags.cellDownAfter, reconcileEveryMs: flags.reconcileEvery, leaseTtlMs: flags.federationLeaseTtl }, log, metrics.registry)
    : undefined;
const leaderChanges = new Map(cells.map((cell) => [cell, new LeaderChanges(nc, cell, log)]));
registerRoutes(app, { nc, log, cell: flags.cell, cells, leaderWaitMs: flags.leaderWaitMs, leaderChanges, ...(federation === undefined ? {} : { federation }) });
await app.listen({ host: flags.host, port: flags.port });
const tables = new Map(cells.map((cell) => [cell, new NameTable(nc, cell, log)]));
let dns: DnsServer | undefined;
if (flags.dnsPort > 0) {
  for (const table of tables.values()) await table.start();
  dns = new DnsServer(federation === undefined ? tables.get(flags.cell)! : new FederatedNames(tables), log);
  await dns.listen(flags.host, flags.dnsPort);
  log.info({ dns: `${flags.host}:${flags.dnsPort}` }, "dns server listening");
}

onShutdown(log, async () => {
  dns?.close();
  for (const table of tables.values()) table.stop();
  await federation?.stop();
  await app.close();
  await nc.drain().catch(() => {});
  await metrics.close();
});
log.info({ url: `http://${flags.host}:${flags.port}` }, "gateway listening");
