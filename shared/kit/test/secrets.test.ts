import test from "ava";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bearerToken, newToken, readSecretFile, tokenSha256 } from "../index.js";

test("tokens are random, recognisable, and stored as a sha256 that differs from token to token", (t) => {
  const tokens = new Set(Array.from({ length: 200 }, () => newToken()));
  t.is(tokens.size, 200);
  for (const token of tokens) t.regex(token, /^corral_[A-Za-z0-9_-]{43}$/);
  const [a, b] = [...tokens];
  t.regex(tokenSha256(a!), /^[0-9a-f]{64}$/);
  t.not(tokenSha256(a!), tokenSha256(b!));
  t.is(tokenSha256(a!), tokenSha256(a!));
});

test("the bearer token of an Authorization header, or why there is none", (t) => {
  t.deepEqual(bearerToken("Bearer corral_abc"), { token: "corral_abc" });
  t.deepEqual(bearerToken("bearer   corral_abc "), { token: "corral_abc" });
  for (const bad of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "corral_abc"]) t.true("missing" in bearerToken(bad), bad);
  t.regex((bearerToken(undefined) as { missing: string }).missing, /corral auth token/);
});

test("a secret file others may read, an empty one or a missing one is refused, naming the flag and the fix", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "secret-"));
  const file = join(dir, "token");
  writeFileSync(file, "s3cret\nignored\n", { mode: 0o600 });
  t.is(readSecretFile(file, "--admin-token-file"), "s3cret");
  chmodSync(file, 0o644);
  t.throws(() => readSecretFile(file, "--admin-token-file"), { message: /^--admin-token-file: .* may be read by others \(mode 644\); .*chmod 600/ });
  const empty = join(dir, "empty");
  writeFileSync(empty, "\n", { mode: 0o600 });
  t.throws(() => readSecretFile(empty, "--x"), { message: /is empty/ });
  t.throws(() => readSecretFile(join(dir, "absent"), "--x"), { message: /^--x: cannot read .*ENOENT/ });
});
