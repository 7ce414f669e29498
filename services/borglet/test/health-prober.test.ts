import test from "ava";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Health } from "@corral/contracts";
import { execForCheck } from "../src/exec-check.js";
import { HealthProber, type Verdict } from "../src/health-prober.js";

async function serve(status: () => number): Promise<{ server: Server; port: number }> {
  const server = createServer((_request, response) => response.writeHead(status()).end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function watch(health: Health, ports: number[]): { verdicts: { verdict: Verdict; message?: string }[]; prober: HealthProber } {
  const verdicts: { verdict: Verdict; message?: string }[] = [];
  const prober = new HealthProber(health, { host: "127.0.0.1", ports, exec: (command, timeoutMs) => execForCheck(command[0]!, command.slice(1), timeoutMs) }, (verdict, message) =>
    verdicts.push(message === undefined ? { verdict } : { verdict, message }),
  );
  prober.start();
  return { verdicts, prober };
}

const until = async (what: () => boolean) => {
  const deadline = Date.now() + 5000;
  while (!what()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

test("http: healthy on 2xx; unhealthy only after `failures` bad answers in a row, saying what was answered", async (t) => {
  let status = 200;
  const { server, port } = await serve(() => status);
  const { verdicts, prober } = watch({ check: { type: "http", path: "/healthz", port: 0 }, intervalMs: 30, timeoutMs: 5000, failures: 3 }, [port]);
  await until(() => verdicts.length === 1);
  t.deepEqual(verdicts[0], { verdict: "healthy" });
  status = 503;
  await until(() => verdicts.length === 2);
  t.deepEqual(verdicts[1], { verdict: "unhealthy", message: "GET /healthz answered 503 (3 failed checks in a row)" });
  status = 204;
  await until(() => verdicts.length === 3);
  t.is(verdicts[2]!.verdict, "healthy");
  prober.stop();
  server.close();
});

test("tcp: a port nobody listens on is unhealthy; exec: the command's exit code decides", async (t) => {
  const { server, port } = await serve(() => 200);
  server.close();
  await new Promise((resolve) => server.once("close", resolve));
  const closed = watch({ check: { type: "tcp", port: 0 }, intervalMs: 20, timeoutMs: 5000, failures: 2 }, [port]);
  await until(() => closed.verdicts.length === 1);
  t.is(closed.verdicts[0]!.verdict, "unhealthy");
  t.regex(closed.verdicts[0]!.message ?? "", new RegExp(`port ${port}`));
  closed.prober.stop();

  const failing = watch({ check: { type: "exec", command: ["/bin/sh", "-c", "echo disk full; exit 2"] }, intervalMs: 20, timeoutMs: 5000, failures: 1 }, []);
  await until(() => failing.verdicts.length === 1);
  t.deepEqual(failing.verdicts[0], { verdict: "unhealthy", message: "/bin/sh exited with code 2: disk full (1 failed check in a row)" });
  failing.prober.stop();
  const passing = watch({ check: { type: "exec", command: ["/bin/true"] }, intervalMs: 20, timeoutMs: 5000, failures: 1 }, []);
  await until(() => passing.verdicts.length === 1);
  t.is(passing.verdicts[0]!.verdict, "healthy");
  passing.prober.stop();
});
