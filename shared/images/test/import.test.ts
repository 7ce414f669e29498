import { createHash } from "node:crypto";
import { cp, mkdir, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import test, { type ExecutionContext } from "ava";
import { testDir } from "@corral/testkit";
import { ImageError, readImageSource, type ImageErrorReason, type ImageSource, type ReadImageSourceOptions } from "../index.js";
import { buildBusyboxImage, type BusyboxImage } from "./support/busybox-image.js";
import { run, uncompressedDigest } from "./support/tools.js";

const built = buildBusyboxImage("images-import");
const scratch = testDir("images-import-scratch");

test.after.always(async () => {
  await rm((await built).dir, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

async function read(path: string, options?: ReadImageSourceOptions): Promise<ImageSource> {
  const source = await readImageSource(path, options);
  await source.close();
  return source;
}

/** Reading `path` fails with `reason`, and the message says which file and what is wrong. */
async function refused(t: ExecutionContext, path: string, reason: ImageErrorReason, message: RegExp, options?: ReadImageSourceOptions): Promise<ImageError> {
  const error = await t.throwsAsync(readImageSource(path, options), { instanceOf: ImageError });
  if (error === undefined) throw new Error("expected an ImageError");
  t.is(error.reason, reason, error.message);
  t.regex(error.message, message);
  return error;
}

async function sha256Of(stream: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk);
  return `sha256:${hash.digest("hex")}`;
}

const digests = (source: ImageSource) => source.layers.map((layer) => layer.digest);

test("an OCI layout, the same layout as a tarball and a docker-save tarball import to the same two layers", async (t) => {
  const image: BusyboxImage = await built;
  const oci = await read(image.ociDir);
  const ociTar = await read(image.ociTarball);
  const docker = await read(image.dockerArchive);
  t.is(oci.format, "oci-layout");
  t.is(ociTar.format, "oci-layout");
  t.is(docker.format, "docker-archive");
  // Addressed by the uncompressed tar, as gzip(1) | sha256sum(1) sees the OCI blobs.
  t.deepEqual(digests(oci), image.diffIds);
  t.deepEqual(digests(ociTar), image.diffIds);
  t.deepEqual(digests(docker), image.diffIds);
  t.deepEqual(docker.layers.map((l) => l.size), oci.layers.map((l) => l.size));
  for (const source of [oci, docker]) {
    t.deepEqual(source.config.entrypoint, ["/bin/sh"]);
    t.deepEqual(source.config.cmd, ["-c", "/bin/busybox cat /etc/app/new.conf"]);
    t.is(source.config.workingDir, "/data");
    t.is(source.config.env?.["GREETING"], "hello");
  }
  // open() gives the uncompressed tar the digest names (the OCI blob itself is gzip).
  t.is(await sha256Of(oci.layers[0]!.open()), image.diffIds[0]!);
});

test("an archive's temporary unpacking is removed by close()", async (t) => {
  const image = await built;
  const tmpDir = join(scratch, "close");
  await mkdir(tmpDir);
  const source = await readImageSource(image.dockerArchive, { tmpDir });
  t.is((await readdir(tmpDir)).length, 1);
  await source.close();
  t.deepEqual(await readdir(tmpDir), []);
});

test("a directory is one layer whose digest depends on content, not on mtimes or when it is read", async (t) => {
  const image = await built;
  const dir = join(scratch, "rootfs-copy");
  await cp(image.rootfsDir, dir, { recursive: true, verbatimSymlinks: true });
  const first = await read(dir);
  t.is(first.format, "directory");
  t.is(first.layers.length, 1);
  t.deepEqual(first.config, {});
  await utimes(join(dir, "data", "keep"), new Date(2001, 1, 1), new Date(2001, 1, 1));
  const touched = await read(dir);
  t.is(touched.layers[0]!.digest, first.layers[0]!.digest);
  // Its tar, as GNU tar lists it: sorted, every owner root, every mtime the epoch.
  const tarFile = join(scratch, "dir-layer.tar");
  await writeFile(tarFile, first.layers[0]!.open());
  t.is(await uncompressedDigest(tarFile), first.layers[0]!.digest);
  const listing = (await run("tar", ["-tvf", tarFile, "--numeric-owner"])).trim().split("\n");
  t.deepEqual(listing.map((line) => line.split(/\s+/)[5]), ["bin/", "bin/busybox", "bin/sh", "data/", "data/keep", "data/remove-me", "etc/", "etc/app/", "etc/app/old-too.conf", "etc/app/old.conf"]);
  t.true(listing.every((line) => line.includes(" 0/0 ") && line.includes("1970-01-01")), listing.join("\n"));
  await writeFile(join(dir, "data", "keep"), "changed\n");
  t.not((await read(dir)).layers[0]!.digest, first.layers[0]!.digest);
});

test("plain and gzip tarballs of a root filesystem are one layer each, addressed by the uncompressed tar", async (t) => {
  const image = await built;
  const plain = await read(image.rootfsTar);
  const gzip = await read(image.rootfsTgz);
  t.is(plain.format, "tarball");
  t.is(gzip.format, "tarball");
  t.is(plain.layers.length, 1);
  t.is(plain.layers[0]!.digest, await uncompressedDigest(image.rootfsTar));
  t.is(gzip.layers[0]!.digest, await uncompressedDigest(image.rootfsTgz));
  t.is(await sha256Of(gzip.layers[0]!.open()), gzip.layers[0]!.digest);
});

test("select picks one image of an archive by tag, and names the tags it has when none matches", async (t) => {
  const image = await built;
  t.deepEqual(digests(await read(image.dockerArchive, { select: "app:1.0" })), image.diffIds);
  t.deepEqual(digests(await read(image.ociDir, { select: "app" })), image.diffIds);
  await refused(t, image.dockerArchive, "not_found", /has no image tagged 'web:2' \(it has: docker\.io\/library\/app:1\.0\)/, { select: "web:2" });
});

test("missing paths and files that are not tarballs are refused by name", async (t) => {
  const missing = join(scratch, "nope.tar");
  const error = await refused(t, missing, "not_found", /nope\.tar does not exist/);
  t.is(error.file, missing);
  const text = join(scratch, "notes.txt");
  await writeFile(text, "these are notes, not a root filesystem\n".repeat(40));
  await refused(t, text, "not_a_tarball", /notes\.txt is not a readable tar archive/);
  await run("gzip", ["-k", text]);
  await refused(t, `${text}.gz`, "not_a_tarball", /notes\.txt\.gz is not a readable tar archive/);
  const empty = join(scratch, "empty-dir");
  await mkdir(empty);
  await refused(t, empty, "not_found", /empty-dir is an empty directory/);
});

test("archives without their manifest, index or marker are refused, not taken for root filesystems", async (t) => {
  const image = await built;
  const noIndex = await repacked(image.ociTarball, "no-index.tar", (dir) => rm(join(dir, "index.json")));
  await refused(t, noIndex, "manifest_missing", /no-index\.tar has an oci-layout file but no index\.json/);
  const noMarker = join(scratch, "no-marker");
  await cp(image.ociDir, noMarker, { recursive: true });
  await rm(join(noMarker, "oci-layout"));
  await refused(t, noMarker, "manifest_missing", /no-marker looks like an OCI image layout .* but has no oci-layout file/);
  const oldDocker = await repacked(image.dockerArchive, "old-docker.tar", (dir) => rm(join(dir, "manifest.json")));
  await refused(t, oldDocker, "manifest_missing", /old-docker\.tar looks like a docker save tarball .* but has no manifest\.json/);
});

test("a manifest that names a missing layer, or a layer that is not what the manifest says, is refused naming the file", async (t) => {
  const image = await built;
  const manifest = JSON.parse(await readFile(join(await unpackedDocker(image), "manifest.json"), "utf8")) as [{ Layers: string[] }];
  const layer2 = manifest[0].Layers[1]!;

  const lacking = await repacked(image.dockerArchive, "lacking.tar", (dir) => rm(join(dir, layer2)));
  const missing = await refused(t, lacking, "blob_missing", new RegExp(`layer 2 '${layer2}' is missing`));
  t.true(missing.file?.endsWith(layer2));

  // Layer 2's file swapped for another tar: its digest no longer matches rootfs.diff_ids.
  const swapped = await unpackedDocker(image, "swapped");
  await cp(image.rootfsTar, join(swapped, layer2));
  await refused(t, swapped, "digest_mismatch", new RegExp(`${layer2} unpacks to a tar with digest sha256:[0-9a-f]{64}, but the image config's rootfs\\.diff_ids says ${image.diffIds[1]}`));

  // An OCI blob rewritten: its bytes no longer hash to the digest that names it.
  const ociManifest = await ociLayerBlobs(image);
  const corrupt = join(scratch, "corrupt-oci");
  await cp(image.ociDir, corrupt, { recursive: true });
  await cp(image.rootfsTgz, join(corrupt, "blobs", "sha256", ociManifest[1]!.slice(7)));
  await refused(t, corrupt, "digest_mismatch", new RegExp(`blobs/sha256/${ociManifest[1]!.slice(7)} has digest sha256:[0-9a-f]{64}, but the manifest says ${ociManifest[1]}`));

  const noBlob = join(scratch, "no-blob-oci");
  await cp(image.ociDir, noBlob, { recursive: true });
  await rm(join(noBlob, "blobs", "sha256", ociManifest[0]!.slice(7)));
  await refused(t, noBlob, "blob_missing", /layer 1 'blobs\/sha256\/[0-9a-f]{64}' is missing/);
});

test("a layer tar with an absolute path or a '..' is refused at import", async (t) => {
  const dir = join(scratch, "unsafe");
  await mkdir(join(dir, "inner"), { recursive: true });
  await writeFile(join(dir, "escape"), "out\n");
  await writeFile(join(dir, "inner", "ok"), "in\n");
  const dotdot = join(scratch, "dotdot.tar");
  // -P keeps the names as given; GNU tar would otherwise strip what makes them unsafe.
  await run("tar", ["-P", "-cf", dotdot, "inner/ok", "inner/../escape"], { cwd: dir });
  await refused(t, dotdot, "unsafe_path", /entry 'inner\/\.\.\/escape' climbs out with '\.\.' in its path/);
  const absolute = join(scratch, "absolute.tar");
  await run("tar", ["-P", "-cf", absolute, join(dir, "escape")]);
  await refused(t, absolute, "unsafe_path", /has an absolute path/);
});

/** A copy of an archive with something changed, unpacked and packed again by GNU tar (its --delete mangles skopeo's archives). */
async function repacked(archive: string, name: string, change: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(scratch, `${name}.d`);
  await mkdir(dir);
  await run("tar", ["-xf", archive, "-C", dir]);
  await change(dir);
  const file = join(scratch, name);
  await run("tar", ["-cf", file, "-C", dir, "."]);
  return file;
}

async function unpackedDocker(image: BusyboxImage, name = "docker-dir"): Promise<string> {
  const dir = join(scratch, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  await run("tar", ["-xf", image.dockerArchive, "-C", dir]);
  return dir;
}

async function ociLayerBlobs(image: BusyboxImage): Promise<string[]> {
  const blob = (digest: string) => join(image.ociDir, "blobs", "sha256", digest.slice(7));
  const index = JSON.parse(await readFile(join(image.ociDir, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(await readFile(blob(index.manifests[0]!.digest), "utf8")) as { layers: { digest: string }[] };
  return manifest.layers.map((layer) => layer.digest);
}
