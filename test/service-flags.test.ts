import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import test from "ava";

const run = promisify(execFile);
const entry = (service: string) => fileURLToPath(new URL(`../services/${service}/src/main.ts`, import.meta.url));
const SERVICES = ["master", "scheduler", "borglet", "gateway"];

for (const service of SERVICES) {
  test(`corral-${service} answers --help with its flags and exits 0`, async (t) => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", entry(service), "--help"], { timeout: 60_000 });
    t.regex(stdout, new RegExp(`^Usage: corral-${service} \\[flags\\]`));
    t.regex(stdout, new RegExp("--nats <value> .*env: CORRAL_NATS\\)"));
  });

  test(`corral-${service} refuses a bad flag from its environment with status 2, before connecting anywhere`, async (t) => {
    const env = { ...process.env, CORRAL_METRICS_PORT: "not-a-port", CORRAL_NATS: "nats://127.0.0.1:1" };
    const failed = await t.throwsAsync(run(process.execPath, ["--import", "tsx", entry(service)], { env, timeout: 60_000 }));
    const { code, stderr } = failed as Error & { code: number; stderr: string };
    t.is(code, 2);
    t.regex(stderr, new RegExp(`corral-${service}: CORRAL_METRICS_PORT \\(for --metrics-port\\): `));
  });
}
