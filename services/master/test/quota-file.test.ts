import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadQuotaFile } from "../src/jobs/quota-file.js";

const GIB = 1024 ** 3;

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "quota-")), "quota.yaml");
  writeFileSync(path, text);
  return path;
}

test("the example quota file loads, with units, defaults and unlimited disk where it is left out", (t) => {
  const table = loadQuotaFile(new URL("../../../deploy/examples/quota.yaml", import.meta.url).pathname);
  t.deepEqual(table.users["alice"]?.production, { cpu: 32, ram: 64 * GIB, disk: 500 * GIB });
  t.deepEqual(table.defaults.batch, { cpu: 16, ram: 32 * GIB, disk: Infinity });
});

test("a bad quota file names the file, the field and the problem", (t) => {
  t.throws(() => loadQuotaFile(file("defaults:\n  production: { cpu: 8, ram: lots }\n")), { message: /quota file .*quota\.yaml: defaults\.production\.ram: .*size/ });
  t.throws(() => loadQuotaFile(file("defaults:\n  best-effort: { cpu: 8, ram: 1G }\n")), { message: /defaults: .*best-effort/ });
  t.throws(() => loadQuotaFile(file("users:\n  alice:\n    production: { cpu: 1, ram: 1G, gpus: 2 }\n")), { message: /users\.alice\.production: .*gpus/ });
  t.throws(() => loadQuotaFile("/no/such/quota.yaml"), { message: /cannot read quota file \/no\/such\/quota\.yaml/ });
});
