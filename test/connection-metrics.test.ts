import test from "ava";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Gauge } from "prom-client";
import {
  collectProcessMetrics,
  connectNats,
  connectRedis,
  createLogger,
  createMetricsRegistry,
  serveMetrics,
  ServiceMetrics,
  watchRedis,
  type ConnectionMetrics,
} from "@corral/kit";
import { freePort, restartProcess, signalGroup, startNatsServer, startRedisServer, stopProcesses, waitUntil, type StartedProcess } from "@corral/launcher";

const log = createLogger("kit-test", "local");
log.level = "silent"; // the warnings the tests provoke on purpose
const dir = (label: string) => mkdtempSync(join(tmpdir(), `corral-kit-metrics-${label}-`));

async function counted(metrics: ConnectionMetrics, kind: "nats" | "redis", what: "disconnects" | "errors"): Promise<number> {
  return (await metrics[kind][what].get()).values[0]?.value ?? 0;
}

test("the exporter serves the registry on /metrics, with the service and cell on every series, and nothing else", async (t) => {
  const registry = createMetricsRegistry("tester", "cell-a");
  collectProcessMetrics(registry);
  new Gauge({ name: "corral_test_answer", help: "A constant.", registers: [registry] }).set(42);
  const exporter = await serveMetrics(registry, { host: "127.0.0.1", port: 0 }, log);
  t.teardown(() => exporter.close());
  t.regex(exporter.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

  const response = await fetch(exporter.url);
  t.is(response.status, 200);
  t.regex(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  t.regex(text, /^# HELP corral_test_answer A constant\.$/m);
  t.regex(text, /^corral_test_answer\{service="tester",cell="cell-a"\} 42$/m);
  t.regex(text, /^process_cpu_user_seconds_total\{service="tester",cell="cell-a"\} /m, "Node's default metrics");

  t.is((await fetch(exporter.url.replace("/metrics", "/"))).status, 404);
  t.is((await fetch(exporter.url, { method: "POST" })).status, 405);
});

test("a port that is taken is an error naming the address", async (t) => {
  const first = await serveMetrics(createMetricsRegistry("a", "local"), { host: "127.0.0.1", port: 0 }, log);
  t.teardown(() => first.close());
  const port = new URL(first.url).port;
  const error = await t.throwsAsync(serveMetrics(createMetricsRegistry("b", "local"), { host: "127.0.0.1", port: Number(port) }, log));
  t.regex(error!.message, new RegExp(`cannot serve metrics on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
});

test("--metrics-port 0 means no exporter; another port serves it until closed", async (t) => {
  const off = new ServiceMetrics("tester", "local");
  await off.serve({ metricsPort: 0, metricsHost: "127.0.0.1" }, log);
  await off.close();

  t.notRegex(await off.registry.metrics(), /process_cpu/, "no exporter, no watching of the event loop and GC either");

  const port = await freePort();
  const on = new ServiceMetrics("tester", "local");
  await on.serve({ metricsPort: port, metricsHost: "127.0.0.1" }, log);
  // A scraper's keep-alive connection must not hold up the close.
  const page = await fetch(`http://127.0.0.1:${port}/metrics`);
  t.is(page.status, 200);
  t.regex(await page.text(), /^process_cpu_user_seconds_total\{service="tester",cell="local"\} /m);
  await on.close();
  await t.throwsAsync(fetch(`http://127.0.0.1:${port}/metrics`));
});

test("NATS: a lost connection is counted once, and the client comes back", async (t) => {
  const servers: StartedProcess[] = [];
  const where = dir("nats");
  t.teardown(() => stopProcesses(servers, where, 1000));
  const port = await freePort();
  servers.push(await startNatsServer({ dir: where, port }));
  const metrics = new ServiceMetrics("tester", "local");
  const nc = await connectNats(`nats://127.0.0.1:${port}`, "kit-test", log, { metrics: metrics.connections });
  t.teardown(() => nc.close());
  t.is(await counted(metrics.connections, "nats", "disconnects"), 0);
  t.regex(await metrics.registry.metrics(), /^corral_nats_errors_total\{service="tester",cell="local"\} 0$/m, "registered from the start, at 0");
  t.notRegex(await metrics.registry.metrics(), /corral_redis_/, "no Redis series in a process without Redis");

  signalGroup(servers[0]!, "SIGKILL");
  await waitUntil("the disconnect counted", async () => (await counted(metrics.connections, "nats", "disconnects")) === 1, 10_000);
  servers[0] = await restartProcess(servers[0]!);
  await waitUntil("NATS answering again", async () => nc.flush().then(() => true, () => false), 15_000);
  t.is(await counted(metrics.connections, "nats", "disconnects"), 1);
});

test("Redis: a lost connection is counted once per connection, errors while it is away, a deliberate disconnect not at all", async (t) => {
  const servers: StartedProcess[] = [];
  const where = dir("redis");
  t.teardown(() => stopProcesses(servers, where, 1000));
  const port = await freePort();
  servers.push(await startRedisServer({ dir: where, port, durability: "none" }));
  const metrics = new ServiceMetrics("tester", "local");
  const redis = connectRedis(`redis://127.0.0.1:${port}`, log, { metrics: metrics.connections });
  const duplicate = watchRedis(redis.duplicate(), log, metrics.connections);
  t.teardown(() => {
    redis.disconnect();
    duplicate.disconnect();
  });
  await Promise.all([redis.ping(), duplicate.ping()]);

  signalGroup(servers[0]!, "SIGKILL");
  await waitUntil("both connections' losses counted", async () => (await counted(metrics.connections, "redis", "disconnects")) === 2, 10_000);
  await waitUntil("errors counted while Redis is away", async () => (await counted(metrics.connections, "redis", "errors")) > 0, 10_000);
  servers[0] = await restartProcess(servers[0]!);
  t.is(await redis.ping(), "PONG");
  t.is(await duplicate.ping(), "PONG");

  duplicate.disconnect();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(await counted(metrics.connections, "redis", "disconnects"), 2, "a deliberate disconnect is no loss");
});
