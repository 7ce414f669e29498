import test from "ava";
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { hostCapacity } from "../src/capacity.js";

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

test("borglets sharing a host each offer their share of it, and together no more than it has", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "corral-capacity-"));
  const whole = hostCapacity(dir);
  t.is(whole.cpu, cpus().length);
  t.is(whole.ram, totalmem());
  for (const share of [2, 3, 8]) {
    const part = hostCapacity(dir, share);
    t.true(part.cpu * share <= whole.cpu && part.cpu * share > whole.cpu - 0.01 * share, `cpu over ${share}`);
    t.true(part.ram * share <= whole.ram && part.ram * share > whole.ram - share, `ram over ${share}`);
    // the disk's free space moves a little between the two reads
    t.true(Math.abs(part.disk * share - whole.disk) < 64 * 2 ** 20, `disk over ${share}`);
  }
  t.throws(() => hostCapacity(dir, 0), { instanceOf: RangeError });
  t.throws(() => hostCapacity(dir, 1.5), { instanceOf: RangeError });
});

test("--host-share must be a whole number of borglets: the borglet refuses anything else and says why", async (t) => {
  const cases = [
    ["0", /--host-share: at least 1/],
    ["two", /--host-share: a whole number of borglets/],
    ["1.5", /--host-share: a whole number of borglets/],
  ] as const;
  await Promise.all(
    cases.map(async ([value, message]) => {
      const error = await run(process.execPath, ["--import", "tsx", MAIN, "--host-share", value, "--data-dir", mkdtempSync(join(tmpdir(), "corral-flags-"))]).then(
        () => undefined,
        (e: unknown) => e as { code: number; stderr: string },
      );
      t.is(error?.code, 2, value);
      t.regex(error?.stderr ?? "", message);
    }),
  );
});
