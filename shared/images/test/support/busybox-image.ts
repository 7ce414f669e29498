import { chmod, mkdir, symlink, writeFile, copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { testDir } from "@corral/testkit";
import { run, uncompressedDigest } from "./tools.js";

/** One two-layer image in every form the importer reads, made by real tools from busybox. */
export interface BusyboxImage {
  dir: string;
  /** an OCI image layout (umoci), image name `app` */
  ociDir: string;
  /** the same layout as a tarball */
  ociTarball: string;
  /** `docker save` format (skopeo copy to docker-archive), tagged app:1.0 */
  dockerArchive: string;
  /** layer 1's files as a directory, and as plain and gzip tarballs made by GNU tar */
  rootfsDir: string;
  rootfsTar: string;
  rootfsTgz: string;
  /** the layers' diff ids as gzip(1) and sha256sum(1) compute them from the OCI blobs, bottom first */
  diffIds: string[];
}

/**
 * Layer 1: /bin/busybox (and /bin/sh linking to it), /data/keep, /data/remove-me,
 * /etc/app/old.conf, /etc/app/old-too.conf. Layer 2 (hand-made with GNU tar, as umoci writes
 * per-file whiteouts only) deletes /data/remove-me with a whiteout and replaces /etc/app
 * with an opaque directory holding new.conf.
 */
export async function buildBusyboxImage(label: string): Promise<BusyboxImage> {
  const dir = testDir(label);
  const ociDir = join(dir, "oci");
  const image = `${ociDir}:app`;
  await run("umoci", ["init", "--layout", ociDir]);
  await run("umoci", ["new", "--image", image]);
  const bundle = join(dir, "bundle");
  await run("umoci", ["unpack", "--image", image, bundle]);
  const rootfs = join(bundle, "rootfs");
  await writeRootfs(rootfs);
  await run("umoci", ["repack", "--image", image, bundle]);

  const layer2 = join(dir, "layer2");
  await mkdir(join(layer2, "data"), { recursive: true });
  await mkdir(join(layer2, "etc", "app"), { recursive: true });
  await writeFile(join(layer2, "data", ".wh.remove-me"), "");
  await writeFile(join(layer2, "etc", "app", ".wh..wh..opq"), "");
  await writeFile(join(layer2, "etc", "app", "new.conf"), "new\n");
  const layer2Tar = join(dir, "layer2.tar");
  await run("tar", ["--owner=0", "--group=0", "--numeric-owner", "-C", layer2, "-cf", layer2Tar, "data", "etc"]);
  await run("umoci", ["raw", "add-layer", "--image", image, layer2Tar]);
  await run("umoci", ["config", "--image", image, "--config.entrypoint=/bin/sh", "--config.cmd=-c", "--config.cmd=/bin/busybox cat /etc/app/new.conf", "--config.env=GREETING=hello", "--config.workingdir=/data"]);

  const dockerArchive = join(dir, "app-docker.tar");
  await run("skopeo", ["--insecure-policy", "copy", "-q", `oci:${ociDir}:app`, `docker-archive:${dockerArchive}:app:1.0`]);
  const ociTarball = join(dir, "app-oci.tar");
  await run("tar", ["-C", ociDir, "-cf", ociTarball, "."]);

  const rootfsDir = join(dir, "rootfs");
  await writeRootfs(rootfsDir);
  const rootfsTar = join(dir, "rootfs.tar");
  const rootfsTgz = join(dir, "rootfs.tar.gz");
  await run("tar", ["-C", rootfsDir, "-cf", rootfsTar, "."]);
  await run("tar", ["-C", rootfsDir, "-czf", rootfsTgz, "."]);

  return { dir, ociDir, ociTarball, dockerArchive, rootfsDir, rootfsTar, rootfsTgz, diffIds: await ociDiffIds(ociDir) };
}

async function writeRootfs(root: string): Promise<void> {
  await mkdir(join(root, "bin"), { recursive: true });
  await mkdir(join(root, "data"), { recursive: true });
  await mkdir(join(root, "etc", "app"), { recursive: true });
  await copyFile("/bin/busybox", join(root, "bin", "busybox"));
  await chmod(join(root, "bin", "busybox"), 0o755);
  await symlink("busybox", join(root, "bin", "sh"));
  await writeFile(join(root, "data", "keep"), "keep\n");
  await writeFile(join(root, "data", "remove-me"), "remove me\n");
  await writeFile(join(root, "etc", "app", "old.conf"), "old\n");
  await writeFile(join(root, "etc", "app", "old-too.conf"), "old too\n");
}

/** Walks index.json → manifest → layer blobs with jq-free JSON reads, hashing each blob uncompressed with real tools. */
async function ociDiffIds(ociDir: string): Promise<string[]> {
  const blob = (digest: string) => join(ociDir, "blobs", "sha256", digest.slice("sha256:".length));
  const index = JSON.parse(await readFile(join(ociDir, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(await readFile(blob(index.manifests[0]!.digest), "utf8")) as { layers: { digest: string }[] };
  return Promise.all(manifest.layers.map((layer) => uncompressedDigest(blob(layer.digest))));
}
