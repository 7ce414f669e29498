import test from "ava";
import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { connect } from "@nats-io/transport-node";
import { ApiError, GatewayClient } from "@corral/client";
import { readNatsCredentials } from "@corral/kit";
import { ensureCellTls, natsCredentialsFile, OPERATOR_CLIENT, REPO_ROOT } from "@corral/launcher";
import { eventually, sleeperJob, TestCell, testDir } from "@corral/testkit";

// A cell started with TLS: its own CA signs the certificate NATS and the gateway present, and
// every service, the CLI and the tests check it. Nothing answers in plain text.
const run = promisify(execFile);
const CLI = join(REPO_ROOT, "services", "cli", "bin", "corral.js");
let cell: TestCell;

test.before(async () => {
  cell = await TestCell.start("tls", { masters: 1, borglets: 1, tls: true });
});
test.after.always(async () => {
  await cell?.stop();
});

test("the whole cell runs over TLS: a job submitted over HTTPS is placed and started by services that speak TLS to NATS", async (t) => {
  t.regex(cell.gateway, /^https:\/\//);
  const job = await cell.submit(sleeperJob("over_tls"));
  await eventually("it runs", async () => ((await cell.job(job.id)).summary.running === 1 ? true : undefined), 30_000);
  // The CLI finds the local cell's CA itself.
  const { stdout } = await run(process.execPath, [CLI, "--dir", cell.cell.dir, "ps", "--json"], { timeout: 60_000 });
  t.true((JSON.parse(stdout) as { jobs: { id: string }[] }).jobs.some((listed) => listed.id === job.id));
  const tls = cell.cell.tls!;
  t.is(statSync(tls.key).mode & 0o777, 0o600, "the servers' key is the owner's alone");
  t.is(statSync(join(tls.ca, "..", "ca.key")).mode & 0o777, 0o600, "so is the CA's");
});

test("a client that does not trust the cell's CA, or speaks plain HTTP, gets no answer from the gateway", async (t) => {
  const untrusting = new GatewayClient(cell.gateway, { token: cell.adminToken, timeoutMs: 10_000 });
  const refused = await t.throwsAsync(untrusting.nodes(), { instanceOf: ApiError });
  t.is(refused?.code, "unavailable");
  const plain = new GatewayClient(cell.gateway.replace(/^https:/, "http:"), { token: cell.adminToken, timeoutMs: 10_000 });
  const reply = await plain.send("GET", "/v1/nodes").catch((error: unknown) => error as ApiError);
  t.true(reply instanceof ApiError || reply.status >= 400, "a plain-text request is not served");
  // Another CA's trust is no better than none.
  const other = ensureCellTls(testDir("tls-other-ca"), ["127.0.0.1"]);
  const wrongCa = new GatewayClient(cell.gateway, { token: cell.adminToken, timeoutMs: 10_000, ca: readFileSync(other.ca, "utf8") });
  await t.throwsAsync(wrongCa.nodes(), { instanceOf: ApiError });
});

test("NATS takes only TLS connections checked against the cell's CA, even with valid credentials", async (t) => {
  const credentials = readNatsCredentials(natsCredentialsFile(cell.cell.natsAuth!, OPERATOR_CLIENT));
  const signIn = { servers: cell.cell.nats, authenticator: credentials.authenticator, inboxPrefix: credentials.inboxPrefix, reconnect: false, timeout: 10_000 };
  // Without the cell's CA, the server's certificate is not trusted.
  await t.throwsAsync(connect(signIn));
  const other = ensureCellTls(testDir("tls-other-nats-ca"), ["127.0.0.1"]);
  await t.throwsAsync(connect({ ...signIn, tls: { caFile: other.ca } }));
  const trusted = await connect({ ...signIn, tls: { caFile: cell.cell.tls!.ca } });
  t.truthy(trusted.info?.tls_required, "the server requires TLS");
  await trusted.close();
});

test("Redis takes only TLS too: the masters reach it with the cell's CA and password, a plain-text client gets nothing", async (t) => {
  const port = Number(new URL(cell.cell.redis).port);
  const { Redis } = await import("ioredis");
  const plain = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000, retryStrategy: () => null, password: cell.redisPassword! });
  t.teardown(() => plain.disconnect());
  await t.throwsAsync(plain.connect().then(() => plain.ping()));
  const secure = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...cell.redisOptions });
  t.teardown(() => secure.disconnect());
  await secure.connect();
  t.is(await secure.ping(), "PONG");
  // The leader's state is there, written over that TLS connection.
  t.true((await secure.keys(`*`)).length > 0);
});
