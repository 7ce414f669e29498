import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import test, { type ExecutionContext } from "ava";
import { startTestNats, testDir, type TestServer } from "@corral/testkit";
import {
  imageBucketName,
  ImageError,
  imageKey,
  layerBucketName,
  LayerStore,
  listImages,
  pushImage,
  resolveImage,
  type ImageErrorReason,
  type LayerStoreProgress,
  type PushProgress,
} from "../index.js";
import { buildBusyboxImage } from "./support/busybox-image.js";

const built = buildBusyboxImage("images-registry");
let server: TestServer;
let nc: NatsConnection;

test.before(async () => {
  server = await startTestNats("images-registry");
  nc = await connect({ servers: server.url });
});

const scratch = testDir("images-registry-stores");

test.after.always(async () => {
  await nc?.close();
  await server?.stop();
  await rm((await built).dir, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

async function refused(t: ExecutionContext, promise: Promise<unknown>, reason: ImageErrorReason, message: RegExp): Promise<void> {
  const error = await t.throwsAsync(promise, { instanceOf: ImageError });
  t.is(error?.reason, reason, error?.message);
  t.regex(error?.message ?? "", message);
}

/** What the cell's object store holds, as the server counts it. */
async function storeState(cell: string): Promise<{ messages: number; bytes: number }> {
  const status = await (await new Objm(nc).open(layerBucketName(cell))).status();
  return { messages: status.streamInfo.state.messages, bytes: status.size };
}


test("a push uploads each layer the cell lacks, and pushing the same layers again uploads nothing", async (t) => {
  const image = await built;
  const events: PushProgress[] = [];
  const first = await pushImage(nc, "push", "app:1.0", image.ociDir, (event) => events.push(event));
  t.deepEqual(first.uploaded, image.diffIds);
  t.deepEqual(first.present, []);
  t.deepEqual(events.map((event) => event.kind), ["layer-uploading", "layer-uploaded", "layer-uploading", "layer-uploaded", "image-recorded"]);
  const objects = await new Objm(nc).open(layerBucketName("push"));
  const infos = await Promise.all(image.diffIds.map((digest) => objects.info(digest)));
  const stored = await storeState("push");

  // The docker-save form of the same image under another tag: same layers, nothing sent.
  events.length = 0;
  const again = await pushImage(nc, "push", "app:again", image.dockerArchive, (event) => events.push(event));
  t.deepEqual(again.uploaded, []);
  t.deepEqual(again.present, image.diffIds);
  t.deepEqual(events.map((event) => event.kind), ["layer-present", "layer-present", "image-recorded"]);
  t.deepEqual(await storeState("push"), stored, "the object store holds exactly what it held");
  for (const [i, digest] of image.diffIds.entries()) t.is((await objects.info(digest))?.nuid, infos[i]?.nuid, `${digest} was not written again`);

  // A directory is another layer: only it is sent.
  const dir = await pushImage(nc, "push", "app:dir", image.rootfsDir);
  t.is(dir.uploaded.length, 1);
  t.false(image.diffIds.includes(dir.uploaded[0]!));
});

test("list and resolve read back what was pushed; the tag defaults to latest", async (t) => {
  const image = await built;
  t.deepEqual(await listImages(nc, "catalog"), [], "a cell nothing was pushed to has no images");
  await refused(t, resolveImage(nc, "catalog", "app"), "not_found", /image app:latest was never pushed to cell catalog/);
  const before = Date.now();
  await pushImage(nc, "catalog", "team/web:2", image.rootfsTgz);
  await pushImage(nc, "catalog", "app", image.ociTarball);
  await pushImage(nc, "catalog", "app:1.0", image.dockerArchive);
  const listed = await listImages(nc, "catalog");
  t.deepEqual(listed.map((record) => `${record.name}:${record.tag}`), ["app:1.0", "app:latest", "team/web:2"]);
  const app = await resolveImage(nc, "catalog", "app");
  t.is(app.tag, "latest");
  t.deepEqual(app.layers.map((layer) => layer.digest), image.diffIds);
  t.true(app.layers.every((layer) => layer.size > 0));
  t.deepEqual(app.config.entrypoint, ["/bin/sh"]);
  t.is(app.config.workingDir, "/data");
  t.true(Date.parse(app.pushedAt) >= before - 1000);
  t.deepEqual(await resolveImage(nc, "catalog", "app:latest"), app);
  const web = listed.find((record) => record.name === "team/web");
  t.is(web?.layers.length, 1);
  t.deepEqual(web?.config, {});
});

test("bad references are refused before anything is read or sent", async (t) => {
  await refused(t, pushImage(nc, "refs", "Web:1", "/does/not/exist"), "bad_reference", /has upper-case letters in its name/);
  await refused(t, pushImage(nc, "refs", "web:", "/does/not/exist"), "bad_reference", /has an empty tag/);
  await refused(t, resolveImage(nc, "refs", "web@sha256:abc"), "bad_reference", /names a digest/);
  await refused(t, pushImage(nc, "Bad.Cell", "web:1", "/does/not/exist"), "bad_reference", /'Bad\.Cell' is not a cell name/);
  t.deepEqual(await listImages(nc, "refs"), [], "nothing was recorded");
});

test("a record in KV that is not an image record is refused, naming the image and the bucket", async (t) => {
  const image = await built;
  await pushImage(nc, "tampered", "good:1", image.rootfsTar);
  const kv = await new Kvm(nc).open(imageBucketName("tampered"));
  await kv.put(imageKey({ name: "broken", tag: "1" }), "{not json");
  await kv.put(imageKey({ name: "liar", tag: "1" }), JSON.stringify({ ...(await resolveImage(nc, "tampered", "good:1")), name: "other" }));
  await kv.put(imageKey({ name: "shapeless", tag: "1" }), JSON.stringify({ name: "shapeless", tag: "1", layers: [{ digest: "md5:x", size: -1 }] }));
  await refused(t, resolveImage(nc, "tampered", "broken:1"), "bad_record", /the record of broken:1 in corral_tampered_images is not JSON/);
  await refused(t, resolveImage(nc, "tampered", "liar:1"), "bad_record", /describes other:1 instead/);
  await refused(t, resolveImage(nc, "tampered", "shapeless:1"), "bad_record", /is not an image record: layers\.0\.digest: a layer digest is sha256/);
  await refused(t, listImages(nc, "tampered"), "bad_record", /corral_tampered_images/);
  t.is((await resolveImage(nc, "tampered", "good:1")).name, "good", "good records still resolve");
});

test("LayerStore.ensure downloads each layer once, even when asked twice at once, and a second ensure downloads nothing", async (t) => {
  const image = await built;
  await pushImage(nc, "store", "app:1.0", image.dockerArchive);
  const objects = await new Objm(nc).open(layerBucketName("store"));
  const storedBytes = (await Promise.all(image.diffIds.map((digest) => objects.info(digest)))).reduce((sum, info) => sum + (info?.size ?? 0), 0);
  const dir = join(scratch, "store");
  // A connection of its own: the bytes it receives are this test's downloads, whatever the code under test reports.
  const own = await connect({ servers: server.url });
  t.teardown(() => own.close());
  const receivedBytes = () => own.stats().inBytes;
  const events: LayerStoreProgress[] = [];
  const store = new LayerStore(dir, own, "store", { onProgress: (event) => events.push(event) });

  const received = receivedBytes();
  const [one, two] = await Promise.all([store.ensure("app:1.0"), store.ensure("app:1.0")]);
  const downloaded = receivedBytes() - received;
  t.deepEqual(events.filter((event) => event.kind === "layer-downloading").map((event) => event.digest).sort(), [...image.diffIds].sort());
  t.true(downloaded >= storedBytes && downloaded < storedBytes * 1.5, `received ${downloaded} bytes for ${storedBytes} stored`);
  t.deepEqual(one.lowerDirs, two.lowerDirs);
  t.deepEqual(one.lowerDirs, image.diffIds.map((digest) => join(dir, "layers", "sha256", digest.slice(7))));
  t.is(one.image.tag, "1.0");
  t.is((await stat(join(one.lowerDirs[0]!, "bin", "busybox"))).size, (await stat("/bin/busybox")).size);
  t.true((await stat(join(one.lowerDirs[1]!, "data", "remove-me"))).isCharacterDevice());
  t.deepEqual(await readdir(join(dir, "tmp")), [], "no staging directory is left");

  // A new store on the same directory (a restarted borglet) finds the layers on disk.
  events.length = 0;
  const restarted = new LayerStore(dir, own, "store", { onProgress: (event) => events.push(event) });
  const before = receivedBytes();
  const again = await restarted.ensure("app:1.0");
  t.deepEqual(again.lowerDirs, one.lowerDirs);
  t.deepEqual(events, []);
  t.true(receivedBytes() - before < 16 * 1024, `received ${receivedBytes() - before} bytes`);
});

test("a stored layer that is not what its digest says is refused, and nothing of it is kept", async (t) => {
  const image = await built;
  await pushImage(nc, "corrupt", "app:1.0", image.ociDir);
  // Another valid gzip tar stored under layer 2's digest, as a damaged or forged object would be.
  const objects = await new Objm(nc).open(layerBucketName("corrupt"));
  const forged = gzipSync(await readFile(image.rootfsTar));
  await objects.putBlob({ name: image.diffIds[1]! }, forged);
  const dir = join(scratch, "corrupt");
  const store = new LayerStore(dir, nc, "corrupt");
  await refused(t, store.ensure("app:1.0"), "digest_mismatch", new RegExp(`layer ${image.diffIds[1]} from corral_corrupt_layers unpacks to a tar with digest sha256:[0-9a-f]{64}: the stored copy is not that layer`));
  await t.throwsAsync(stat(store.layerDir(image.diffIds[1]!)), { code: "ENOENT" });
  t.deepEqual(await readdir(join(dir, "tmp")), [], "the partly unpacked layer was removed");
  // A layer deleted from the store is named as missing.
  await objects.delete(image.diffIds[1]!);
  await refused(t, store.ensure("app:1.0"), "not_found", /is not in corral_corrupt_layers; push the image again/);
});
