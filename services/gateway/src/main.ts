import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import Fastify, { type FastifyInstance } from "fastify";
import { z } from "zod";
import { cellNameSchema, UPLOAD_PART_BYTES, userNameSchema } from "@corral/contracts";
import { parseDuration } from "@corral/spec";
import { ensureAuditStream, flag, fromFlag, jsReplicasFlag, LeaderChanges, parsedFlag, readSecretPem, secretFromFlag, startService } from "@corral/kit";
import { AuditLog } from "./auth/audit-log.js";
import { requireIdentity } from "./auth/authenticate.js";
import { OidcVerifier } from "./auth/oidc.js";
import { UserRegistry } from "./auth/user-registry.js";
import { httpError } from "./http-errors.js";
import { DnsServer } from "./dns-server.js";
import { NameTable } from "./name-table.js";
import { FederatedNames } from "./federation/federated-names.js";
import { Federation } from "./federation/federation.js";
import { registerRoutes } from "./routes.js";

const duration = parsedFlag(parseDuration);
// Unique by default: two gateways of one name would both believe they hold the reconciler lease.
const uniqueName = `gateway-${hostname().toLowerCase().replace(/[^a-z0-9_-]/g, "-").slice(0, 40)}-${process.pid}`;

const { flags, log, metrics, nc, onStop } = await startService({
  service: "gateway",
  summary: "The Corral gateway: the HTTP API, the web UI and DNS for a cell's names, and, given --cells, the federation of several cells.",
  name: { help: "this gateway's name among the federation's gateways", default: uniqueName, defaultShown: "gateway-<host>-<pid>" },
  flags: {
    host: flag("the address the API (and DNS) listen on", z.string().min(1), { default: "127.0.0.1" }),
    port: flag("the API's port", z.coerce.number().int("a whole port number").min(1).max(65535), { default: "8080" }),
    leaderWait: flag("how long a request waits for a leader during a failover before it fails", duration.refine((ms) => ms <= 120_000, "at most 2m"), { default: "10s" }),
    dnsPort: flag("the DNS server's UDP port for the cell's names; 0: none", z.coerce.number().int("a whole port number").min(0).max(65535), { default: "0" }),
    cells: flag(
      "a federation: every cell behind this gateway, comma-separated (--cell is the home cell, one of them)",
      z
        .string()
        .transform((text) => (text === "" ? [] : text.split(",").map((cell) => cell.trim())))
        .pipe(z.array(cellNameSchema).refine((cells) => new Set(cells).size === cells.length, "a cell is named twice")),
      { default: "" },
    ),
    cellDownAfter: flag("how long a federated cell may stay silent before it counts as down", duration.refine((ms) => ms >= 500, "at least 500ms"), { default: "10s" }),
    reconcileEvery: flag("how often the federation's reconciler runs", duration.refine((ms) => ms >= 50 && ms <= 60_000, "between 50ms and 60s"), { default: "1s" }),
    jsReplicas: jsReplicasFlag,
    adminUser: flag("the name of the cell's first admin, whose token is in --admin-token-file", userNameSchema, { default: "admin" }),
    adminTokenFile: flag("a file (mode 600) holding the first admin's bearer token on its first line; empty: only the users in the cell's user bucket", z.string(), { default: "" }),
    tlsCert: flag("the certificate (PEM) the API serves HTTPS with, with --tls-key; empty: plain HTTP", z.string(), { default: "" }),
    tlsKey: flag("its private key (PEM, mode 600)", z.string(), { default: "" }),
    oidcIssuer: flag("an OpenID Connect issuer whose JWTs sign users in (its discovery document and keys are fetched from it); empty: the cell's own tokens only", z.string(), { default: "" }),
    oidcAudience: flag("with --oidc-issuer: what the tokens' audience must include (this cell's client id there)", z.string(), { default: "" }),
    oidcUsernameClaim: flag("with --oidc-issuer: the claim holding the user's name in the cell", z.string().min(1), { default: "preferred_username" }),
    federationLeaseTtl: flag("how long the federation reconciler's lease lasts unrenewed", duration.refine((ms) => ms >= 500, "at least 500ms"), { default: "3s" }),
  },
  check: (flags) =>
    flags.cells.length > 0 && !flags.cells.includes(flags.cell)
      ? `--cell ${flags.cell} is not one of --cells ${flags.cells.join(",")}; the home cell must be one of the federation's`
      : (flags.tlsCert === "") !== (flags.tlsKey === "")
        ? "--tls-cert and --tls-key go together: give both to serve HTTPS, or neither"
        : (flags.oidcIssuer === "") !== (flags.oidcAudience === "")
          ? "--oidc-issuer and --oidc-audience go together: a token for any audience would do otherwise"
          : undefined,
  connectionName: (flags) => `gateway@${flags.cell}`,
});
// Fastify's own logger stays off: the gateway logs what matters through its pino logger.
// A client that takes longer than this to send its request (headers and body) is cut off,
// so slow senders cannot hold connections open; answers (the live stream) are not limited.
const serverOptions = { headersTimeout: 10_000, connectionsCheckingInterval: 1000 };
const tls = flags.tlsCert === "" ? undefined : fromFlag(() => ({ cert: readFileSync(flags.tlsCert, "utf8"), key: readSecretPem(flags.tlsKey, "--tls-key") }), "corral-gateway");
const scheme = tls === undefined ? "http" : "https";
// An HTTPS server is typed apart from an HTTP one; the routes use neither's own API.
const app =
  tls === undefined
    ? Fastify({ logger: false, bodyLimit: 1_048_576, requestTimeout: 30_000, http: serverOptions })
    : (Fastify({ logger: false, bodyLimit: 1_048_576, requestTimeout: 30_000, https: { ...serverOptions, ...tls } }) as unknown as FastifyInstance);
// Raw spec text is accepted too: `curl --data-binary @job.borg -H 'content-type: text/plain'`.
app.addContentTypeParser("text/plain", { parseAs: "string" }, (_request, body, done) => done(null, { source: body, format: "borg" }));
app.addContentTypeParser("application/yaml", { parseAs: "string" }, (_request, body, done) => done(null, { source: body, format: "yaml" }));
// A part of an image layer (PUT /v1/images/uploads/…): raw bytes, larger than a spec may be.
app.addContentTypeParser("application/octet-stream", { parseAs: "buffer", bodyLimit: UPLOAD_PART_BYTES }, (_request, body, done) => done(null, body));
app.setErrorHandler((error, request, reply) => {
  const { status, body } = httpError(error);
  if (status >= 500) log.error({ err: error, url: request.url }, "request failed");
  request.failureCode = body.error.code;
  void reply.code(status).send(body);
});
app.setNotFoundHandler((request, reply) => {
  request.failureCode = "not_found";
  void reply.code(404).send({ error: { code: "not_found", message: `no route ${request.method} ${request.url}; see README § HTTP API` } });
});
const cells = flags.cells.length > 0 ? flags.cells : [flags.cell];
const adminToken = secretFromFlag(flags.adminTokenFile, "--admin-token-file", "corral-gateway");
const users = new UserRegistry(nc, flags.cell, log, flags.jsReplicas, adminToken === undefined ? undefined : { name: flags.adminUser, token: adminToken });
await users.start();
if (adminToken === undefined && users.list().length === 0) log.warn("no users, and no --admin-token-file: every request will be refused as unauthenticated");
const oidc = flags.oidcIssuer === "" ? undefined : new OidcVerifier({ issuer: flags.oidcIssuer, audience: flags.oidcAudience, usernameClaim: flags.oidcUsernameClaim }, log);
requireIdentity(app, users, oidc);
await ensureAuditStream(nc, flags.cell, flags.jsReplicas, log);
new AuditLog(nc, flags.cell, flags.name, log).recordChanges(app);
const federation =
  flags.cells.length > 0
    ? await Federation.start(nc, { name: flags.name, cells, cellDownAfterMs: flags.cellDownAfter, reconcileEveryMs: flags.reconcileEvery, leaseTtlMs: flags.federationLeaseTtl, jsReplicas: flags.jsReplicas }, log, metrics.registry)
    : undefined;
const leaderChanges = new Map(cells.map((cell) => [cell, new LeaderChanges(nc, cell, log)]));
registerRoutes(app, { nc, log, users, jsReplicas: flags.jsReplicas, cell: flags.cell, cells, leaderWaitMs: flags.leaderWait, leaderChanges, ...(federation === undefined ? {} : { federation }) });
await app.listen({ host: flags.host, port: flags.port });
const tables = new Map(cells.map((cell) => [cell, new NameTable(nc, cell, log, flags.jsReplicas)]));
let dns: DnsServer | undefined;
if (flags.dnsPort > 0) {
  for (const table of tables.values()) await table.start();
  dns = new DnsServer(federation === undefined ? tables.get(flags.cell)! : new FederatedNames(tables), log);
  await dns.listen(flags.host, flags.dnsPort);
  log.info({ dns: `${flags.host}:${flags.dnsPort}` }, "dns server listening");
}

onStop(async () => {
  dns?.close();
  for (const table of tables.values()) table.stop();
  users.stop();
  await federation?.stop();
  await app.close();
});
log.info({ url: `${scheme}://${flags.host}:${flags.port}` }, "gateway listening");
