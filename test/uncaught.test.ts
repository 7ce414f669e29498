import test from "ava";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("./support/orphaned-timeout.ts", import.meta.url));

test("a NATS client timeout nothing awaited is logged and the service goes on; any other unhandled rejection ends it", async (t) => {
  const failed = await t.throwsAsync(run(process.execPath, ["--import", "tsx", SCRIPT], { timeout: 60_000 }));
  const { code, stdout } = failed as Error & { code: number; stdout: string };
  t.is(code, 1, "ended by its own rejection");
  t.regex(stdout, /"msg":"a NATS client timeout nothing awaited; going on"/);
  t.regex(stdout, /alive after the orphaned timeout/);
  t.regex(stdout, /"origin":"unhandledRejection".*"msg":"unhandled rejection"/);
  t.regex(stdout, /a rejection of our own/);
});
