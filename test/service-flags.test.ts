import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { newNatsSeed } from "@corral/kit";
import { startTestNats, testDir } from "@corral/testkit";

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

test("a service that NATS will not let in says why and exits 2: no credentials, or a key its servers do not list", async (t) => {
  const nats = await startTestNats("service-sign-in", { clients: [{ name: "scheduler-0", grant: { role: "scheduler", cell: "signin" } }] });
  t.teardown(() => nats.stop());
  const dir = testDir("service-sign-in-keys");
  const stranger = join(dir, "stranger.nk");
  writeFileSync(stranger, `${newNatsSeed()}\n`, { mode: 0o600 });
  for (const credentials of [[], ["--nats-credentials", stranger]]) {
    const failed = await t.throwsAsync(run(process.execPath, ["--import", "tsx", entry("scheduler"), "--cell", "signin", "--nats", nats.url, ...credentials], { timeout: 60_000 }));
    const { code, stderr } = failed as Error & { code: number; stderr: string };
    t.is(code, 2);
    t.regex(stderr, /corral-scheduler: NATS refused to let this service sign in .*--nats-credentials/);
  }
  const open = join(dir, "open.nk");
  writeFileSync(open, `${newNatsSeed()}\n`, { mode: 0o644 });
  const exposed = await t.throwsAsync(run(process.execPath, ["--import", "tsx", entry("scheduler"), "--cell", "signin", "--nats", nats.url, "--nats-credentials", open], { timeout: 60_000 }));
  t.is((exposed as Error & { code: number }).code, 2);
  t.regex((exposed as Error & { stderr: string }).stderr, /may be read by others .*chmod 600/);
});
