import test from "ava";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { GatewayClient } from "@corral/client";
import { UPLOAD_PART_BYTES, type AuditRecord, type ImageRecord } from "@corral/contracts";
import { REPO_ROOT } from "@corral/launcher";
import { busyboxRoot, eventually, TestCell } from "@corral/testkit";

// Images are kept per user through the gateway, on a real cell: a push needs a token, a name
// is in its pusher's namespace, layers are checked against their digests, and every push is
// audited.
const run = promisify(execFile);
const CLI = join(REPO_ROOT, "services", "cli", "bin", "corral.js");
let cell: TestCell;
const tokens: Record<string, string> = {};
const as = (name: string) => new GatewayClient(cell.gateway, { token: name === "admin" ? cell.adminToken : tokens[name], timeoutMs: 60_000 });

/** The CLI as `who`; resolves with its exit code, stdout and stderr (a refusal is an answer here). */
async function corralAs(who: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, "--dir", cell.cell.dir, "--token", who === "admin" ? cell.adminToken : tokens[who]!, ...args], { cwd: REPO_ROOT, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

const root = () => busyboxRoot("image-namespaces", { applets: ["cat", "sleep"], files: { "www/index.html": "alice's page\n" } });

async function recordOf(ref: string): Promise<ImageRecord | undefined> {
  const { images } = await as("admin").images();
  return images.find((image) => `${image.name}:${image.tag}` === ref);
}

test.before(async () => {
  cell = await TestCell.start("image-ns", { borglets: 1 });
  for (const [name, role] of [["alice", "user"], ["bob", "user"], ["vera", "viewer"]] as const) {
    tokens[name] = (await as("admin").addUser(name, role)).token;
  }
});
test.after.always(async () => {
  await cell?.stop();
});

test.serial("a user pushes into their own namespace only; an admin anywhere; a refused push changes nothing; anyone signed in runs any image", async (t) => {
  const pushed = await corralAs("alice", "image", "push", root(), "alice/web:1", "--json");
  t.is(pushed.code, 0, pushed.stderr);
  t.is((JSON.parse(pushed.stdout) as { image: ImageRecord }).image.pushedBy, "alice");
  const before = await recordOf("alice/web:1");
  t.is(before?.pushedBy, "alice");

  const intruder = await corralAs("bob", "image", "push", root(), "alice/web:1");
  t.not(intruder.code, 0);
  t.regex(intruder.stderr, /bob may not push alice\/web:1: it is in alice's namespace, where only alice or an admin may push; push it as bob\/web:1/);
  t.deepEqual(await recordOf("alice/web:1"), before, "alice's image is untouched");

  const shared = await corralAs("alice", "image", "push", root(), "web:1");
  t.regex(shared.stderr, /alice may not push web:1: a name without a namespace is one of the cell's shared images, which only admins push; push it as alice\/web:1/);
  t.is(await recordOf("web:1"), undefined);

  const viewer = await as("vera").send("POST", "/v1/images/uploads");
  t.is(viewer.status, 403);
  t.regex(JSON.stringify(viewer.body), /vera is a viewer and may not upload image layers: viewers only read/);
  t.is((await new GatewayClient(cell.gateway, { token: undefined }).send("GET", "/v1/images")).status, 401);

  // An admin may overwrite anyone's; the record says who did.
  const admin = (await as("admin").whoami()).name;
  const overwritten = await as("admin").recordImage({ ref: "alice/web:1", layers: before!.layers, config: { env: { BY: "admin" } } });
  t.is(overwritten.image.pushedBy, admin);
  t.is((await recordOf("alice/web:1"))?.config.env?.["BY"], "admin");

  // Reading is open: bob's job runs alice's image.
  const job = `job page = {
  image = 'alice/web:1'
  binary = '/bin/sh'
  args = ['-c', 'cat /www/index.html; exec sleep 3600']
  requirements = { cpu = 0.05 ram = 16M }
  replicas = 1
}`;
  await as("bob").submit(job, "page.borg");
  const logs = await eventually("bob's task printed alice's page", async () => {
    const text = await as("bob").logs("page", 0, "stdout", 4096).catch(() => "");
    return text.includes("alice's page") ? text : undefined;
  }, 60_000);
  t.regex(logs, /alice's page/);
  await as("bob").kill("page", "1s");

  // Every push, allowed or refused, is in the audit log with who and which image.
  const audited = await eventually("the pushes are audited", async () => {
    const { records } = await as("admin").audit({ since: "10m" });
    const pushes = records.filter((record: AuditRecord) => record.action === "image.push");
    return pushes.length >= 4 ? pushes : undefined;
  }, 30_000);
  t.deepEqual(
    audited.map((record) => [record.user, record.target, record.outcome]),
    [
      ["alice", "alice/web:1", "ok"],
      ["bob", "alice/web:1", "refused"],
      ["alice", "web:1", "refused"],
      [admin, "alice/web:1", "ok"],
    ],
  );
});

test("a layer that does not hash to its digest is refused and not kept; parts are their uploader's; a record of a layer the cell lacks is refused", async (t) => {
  const bytes = Buffer.from("not really a tar");
  const truth = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  const lie = `sha256:${createHash("sha256").update("something else").digest("hex")}`;
  const alice = as("alice");
  const { upload } = await alice.startUpload();
  await alice.uploadPart(upload, 0, bytes);

  const lied = await alice.send("POST", "/v1/images/layers", { digest: lie, size: bytes.length, upload, parts: 1 });
  t.is(lied.status, 400);
  t.regex(JSON.stringify(lied.body), /is not layer sha256:[0-9a-f]{64} of 16 bytes: its 16 bytes hash to sha256:[0-9a-f]{64}/);
  t.false((await alice.layerPresent(lie)).present);

  // Another user cannot commit alice's upload: its parts are not theirs.
  const { upload: second } = await alice.startUpload();
  await alice.uploadPart(second, 0, bytes);
  const borrowed = await as("bob").send("POST", "/v1/images/layers", { digest: truth, size: bytes.length, upload: second, parts: 1 });
  t.is(borrowed.status, 404);
  t.regex(JSON.stringify(borrowed.body), /part 0 of upload [0-9a-f]{32} is not there/);
  t.false((await alice.layerPresent(truth)).present);
  const committed = await alice.commitLayer({ digest: truth, size: bytes.length, upload: second, parts: 1 });
  t.false(committed.present);
  t.true((await alice.layerPresent(truth)).present);

  const missing = await alice.send("POST", "/v1/images", { ref: "alice/ghost:1", layers: [{ digest: lie, size: 1 }], config: {} });
  t.is(missing.status, 404);
  t.regex(JSON.stringify(missing.body), new RegExp(`layer sha256:[0-9a-f]{64} of alice/ghost:1 is not in cell ${cell.cell.cell}; upload it first`));
  const bad = await alice.send("POST", "/v1/images", { ref: "Alice/Web:1", layers: [{ digest: truth, size: bytes.length }], config: {} });
  t.is(bad.status, 400);
  t.regex(JSON.stringify(bad.body), /has upper-case letters in its name/);
});

test("a layer larger than one part goes in several, and the gateway stores exactly the layer they make up", async (t) => {
  // Random, so the tar cannot be matched by chance: over two parts of 8 MiB.
  const big = busyboxRoot("image-namespaces-big", { files: { "data/blob": randomBytes(13 * 1024 * 1024).toString("base64") } });
  const pushed = await corralAs("alice", "image", "push", big, "alice/big:1", "--json");
  t.is(pushed.code, 0, pushed.stderr);
  const result = JSON.parse(pushed.stdout) as { image: ImageRecord; uploaded: string[] };
  t.is(result.uploaded.length, 1);
  t.true(result.image.layers[0]!.size > 2 * UPLOAD_PART_BYTES, `a ${result.image.layers[0]!.size}-byte layer`);
  t.true((await as("alice").layerPresent(result.uploaded[0]!)).present);
});
