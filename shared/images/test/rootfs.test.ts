import { lstat, mkdir, readdir, readFile, readlink, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { getAttribute } from "@napi-rs/xattr";
import test from "ava";
import { REPO_ROOT } from "@corral/launcher";
import { testDir } from "@corral/testkit";
import { ImageError, mountPointsIn, mountRootfs, OPAQUE_XATTR, readImageSource, shiftLayer, unmountRootfs } from "../index.js";
import { unpackLayerFile } from "../src/layers/unpack-layer.js";
import { buildBusyboxImage } from "./support/busybox-image.js";
import { run } from "./support/tools.js";

const scratch = testDir("images-rootfs");
const built = buildBusyboxImage("images-rootfs-image");

/** The test image's two layers, unpacked the way LayerStore does (without the object store). */
const layers = (async () => {
  const source = await readImageSource((await built).ociDir);
  const dirs: string[] = [];
  for (const layer of source.layers) {
    const dir = join(scratch, "layers", layer.digest.slice(7));
    await mkdir(dir, { recursive: true });
    const tarFile = `${dir}.tar`;
    await writeFile(tarFile, layer.open());
    await unpackLayerFile(tarFile, dir, `layer ${layer.digest}`, layer);
    dirs.push(dir);
  }
  return dirs;
})();

test.after.always(async () => {
  await rm((await built).dir, { recursive: true, force: true });
  // Only once nothing is mounted there: every test unmounts what it mounted.
  if (!(await readFile("/proc/self/mountinfo", "utf8")).includes(scratch)) await rm(scratch, { recursive: true, force: true });
});

async function mountCount(path: string): Promise<number> {
  const mountinfo = await readFile("/proc/self/mountinfo", "utf8");
  return mountinfo.split("\n").filter((line) => line.split(" ")[4] === path).length;
}

test("unpacked layers are in overlayfs's form: a 0/0 character device per whiteout, the opaque xattr on its directory", async (t) => {
  const [bottom, top] = await layers;
  const busybox = await stat(join(bottom!, "bin", "busybox"));
  t.is(busybox.mode & 0o7777, 0o755);
  t.is(await readlink(join(bottom!, "bin", "sh")), "busybox");
  const whiteout = await lstat(join(top!, "data", "remove-me"));
  t.true(whiteout.isCharacterDevice());
  t.is(whiteout.rdev, 0);
  t.is((await getAttribute(join(top!, "etc", "app"), OPAQUE_XATTR))?.toString(), "y");
  t.is(await getAttribute(join(bottom!, "etc", "app"), OPAQUE_XATTR), null);
  // The OCI markers themselves are not left behind.
  t.deepEqual((await readdir(join(top!, "data"))).sort(), ["remove-me"]);
  t.deepEqual((await readdir(join(top!, "etc", "app"))).sort(), ["new.conf"]);
});

test("a task's root file system shows the image with deletions applied, and its writes stay in its own upper layer", async (t) => {
  const lowerDirs = await layers;
  const taskA = join(scratch, "task-a");
  const taskB = join(scratch, "task-b");
  const a = await mountRootfs(lowerDirs, taskA);
  const b = await mountRootfs(lowerDirs, taskB);
  try {
    t.deepEqual((await readdir(join(a.rootfs, "data"))).sort(), ["keep"], "the whiteout hides remove-me");
    // A setuid file or a device node in an image gives nothing.
    const options = (await readFile("/proc/self/mounts", "utf8")).split("\n").find((line) => line.split(" ")[1] === a.rootfs)?.split(" ")[3] ?? "";
    t.true(options.split(",").includes("nosuid") && options.split(",").includes("nodev"), `mounted ${options}`);
    t.deepEqual(await readdir(join(a.rootfs, "etc", "app")), ["new.conf"], "the opaque directory hides old*.conf");
    // The image's own busybox runs in it, chrooted, and writes a file.
    const out = await run("chroot", [a.rootfs, "/bin/sh", "-c", "/bin/busybox cat /etc/app/new.conf && echo mine > /data/written-by-a"]);
    t.is(out, "new\n");
    t.is(await readFile(join(a.upperDir, "data", "written-by-a"), "utf8"), "mine\n");
    for (const lower of lowerDirs) await t.throwsAsync(stat(join(lower, "data", "written-by-a")), { code: "ENOENT" });
    await t.throwsAsync(stat(join(b.rootfs, "data", "written-by-a")), { code: "ENOENT" }, "task B does not see task A's write");

    await unmountRootfs(taskA);
    t.is(await mountCount(a.rootfs), 0);
    await t.throwsAsync(stat(a.upperDir), { code: "ENOENT" }, "the upper layer is gone");
    await unmountRootfs(taskA); // a second call has nothing left to do
    t.is(await readFile(join(b.rootfs, "etc", "app", "new.conf"), "utf8"), "new\n", "task B is untouched");
  } finally {
    await unmountRootfs(taskA);
    await unmountRootfs(taskB);
  }
  t.is(await mountCount(b.rootfs), 0);
});

test("layers shifted for a user namespace: every owner moved by the offset, whiteouts, opaque directories, links and modes kept; the root directory is the container's", async (t) => {
  const lowerDirs = await layers;
  const shift = { offset: 300_000_000, size: 65_536 };
  const shifted = lowerDirs.map((dir) => `${dir}-shifted`);
  for (const [index, dir] of lowerDirs.entries()) await shiftLayer(dir, shifted[index]!, `${dir}-staging`, shift, (file, args) => run(file, [...args]).then(() => undefined));
  const [bottom, top] = shifted;
  // Owners read by find(1), not by the code under test: every entry, links and devices too.
  const owners = new Set((await run("find", [bottom!, top!, "-printf", "%U:%G\n"])).trim().split("\n"));
  t.deepEqual([...owners], ["300000000:300000000"]);
  t.is((await stat(join(bottom!, "bin", "busybox"))).mode & 0o7777, 0o755);
  t.is(await readlink(join(bottom!, "bin", "sh")), "busybox");
  const whiteout = await lstat(join(top!, "data", "remove-me"));
  t.true(whiteout.isCharacterDevice() && whiteout.rdev === 0, "the whiteout is still overlayfs's");
  t.is((await getAttribute(join(top!, "etc", "app"), OPAQUE_XATTR))?.toString(), "y");
  await t.throwsAsync(stat(`${lowerDirs[0]!}-staging`), { code: "ENOENT" }, "nothing left beside it");

  const task = join(scratch, "task-shifted");
  try {
    const mounted = await mountRootfs(shifted, task, undefined, { uid: shift.offset, gid: shift.offset });
    t.is((await stat(mounted.rootfs)).uid, shift.offset, "the container's root owns /");
    t.deepEqual((await readdir(join(mounted.rootfs, "data"))).sort(), ["keep"], "the whiteout hides remove-me");
  } finally {
    await unmountRootfs(task);
  }
});

test("a layer with a file owned beyond the namespace's ids is refused, naming the file; nothing is left", async (t) => {
  const layer = join(scratch, "high-owner");
  await mkdir(join(layer, "srv"), { recursive: true });
  await writeFile(join(layer, "srv", "data"), "x");
  await run("chown", ["70000:0", join(layer, "srv", "data")]);
  const noop = (file: string, args: readonly string[]) => run(file, [...args]).then(() => undefined);
  const error = await t.throwsAsync(shiftLayer(layer, `${layer}-shifted`, `${layer}-staging`, { offset: 300_000_000, size: 65_536 }, noop), { instanceOf: ImageError });
  t.regex(error?.message ?? "", /\/srv\/data in the image is owned by 70000:0, beyond the 65536 ids a container's user namespace maps/);
  await t.throwsAsync(stat(`${layer}-shifted`), { code: "ENOENT" });
  await t.throwsAsync(stat(`${layer}-staging`), { code: "ENOENT" });
});

test("mounting a mounted root file system again returns it; a missing layer directory is named", async (t) => {
  const lowerDirs = await layers;
  const task = join(scratch, "task-twice");
  try {
    const first = await mountRootfs(lowerDirs, task);
    const second = await mountRootfs(lowerDirs, task);
    t.is(second.rootfs, first.rootfs);
    t.is(await mountCount(first.rootfs), 1);
  } finally {
    await unmountRootfs(task);
  }
  const missing = join(scratch, "layers", "not-there");
  const error = await t.throwsAsync(mountRootfs([lowerDirs[0]!, missing], join(scratch, "task-missing")), { instanceOf: ImageError });
  t.is(error?.reason, "not_found");
  t.is(error?.file, missing);
  t.regex(error?.message ?? "", /layer directory .*not-there is missing/);
});

test("without root, mounting says that root is needed", async (t) => {
  // A real unprivileged process (setpriv from util-linux drops to nobody).
  const script = `import("@corral/images").then(async (images) => {
    try { await images.mountRootfs(["/tmp"], "/tmp/corral-not-root"); console.log("mounted"); }
    catch (error) { console.log(JSON.stringify({ reason: error.reason, message: error.message })); }
  })`;
  const out = await run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "--import", "tsx", "-e", script], { cwd: REPO_ROOT });
  const result = JSON.parse(out) as { reason: string; message: string };
  t.is(result.reason, "not_root");
  t.regex(result.message, /needs root, and this process runs as uid 65534/);
});

test("mount points are read from mountinfo with the kernel's escapes undone", (t) => {
  const mountinfo = [
    "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/root rw",
    "98 22 0:45 / /var/lib/corral/bundles/0.web.alice.local-0/fs/rootfs rw,relatime - overlay overlay rw,lowerdir=a:b",
    "99 22 0:46 / /srv/my\\040data\\011tab\\134x rw - tmpfs tmpfs rw",
    "",
  ].join("\n");
  t.deepEqual([...mountPointsIn(mountinfo)], ["/", "/var/lib/corral/bundles/0.web.alice.local-0/fs/rootfs", "/srv/my data\ttab\\x"]);
});
