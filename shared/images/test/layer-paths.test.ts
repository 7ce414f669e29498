import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix, relative, resolve, sep } from "node:path";
import test from "ava";
import fc from "fast-check";
import { ImageError } from "../index.js";
import { LayerEntryGuard, type AdmittedEntry, type TarEntryHeader } from "../src/layers/entry-guard.js";
import { unpackLayerFile } from "../src/layers/unpack-layer.js";
import { tarOf, type RawEntry } from "./support/tar-bytes.js";

/** Admits entries in order; the first refusal's message, or what each entry became. */
function judge(entries: TarEntryHeader[]): AdmittedEntry[] | string {
  const guard = new LayerEntryGuard("test layer");
  const admitted: AdmittedEntry[] = [];
  try {
    for (const entry of entries) admitted.push(guard.admit(entry));
  } catch (error) {
    if (!(error instanceof ImageError) || error.reason !== "unsafe_path") throw error;
    return error.message;
  }
  return admitted;
}

const file = (path: string): TarEntryHeader => ({ path, type: "File" });
const dir = (path: string): TarEntryHeader => ({ path, type: "Directory" });
const symlink = (path: string, linkpath: string): TarEntryHeader => ({ path, type: "SymbolicLink", linkpath });
const hardlink = (path: string, linkpath: string): TarEntryHeader => ({ path, type: "Link", linkpath });

test("ordinary root filesystem entries are admitted, their paths cleaned", (t) => {
  t.deepEqual(judge([dir("./"), dir("./bin/"), file("./bin//busybox"), symlink("bin/sh", "busybox"), symlink("lib", "usr/lib"), symlink("etc/localtime", "/usr/share/zoneinfo/UTC"), symlink("usr/bin/x", "../../bin/busybox"), hardlink("bin/ash", "./bin/busybox")]), [
    { kind: "directory", path: "" },
    { kind: "directory", path: "bin" },
    { kind: "file", path: "bin/busybox" },
    { kind: "symlink", path: "bin/sh", target: "busybox" },
    { kind: "symlink", path: "lib", target: "usr/lib" },
    { kind: "symlink", path: "etc/localtime", target: "/usr/share/zoneinfo/UTC" },
    { kind: "symlink", path: "usr/bin/x", target: "../../bin/busybox" },
    { kind: "hardlink", path: "bin/ash", target: "bin/busybox" },
  ]);
});

test("whiteouts and opaque markers are recognised, and a whiteout must name something", (t) => {
  t.deepEqual(judge([file("data/.wh.remove-me"), file("etc/app/.wh..wh..opq"), file(".wh.top"), file(".wh..wh.plnk")]), [
    { kind: "whiteout", path: "data/.wh.remove-me", hidden: "data/remove-me" },
    { kind: "opaque", path: "etc/app/.wh..wh..opq", directory: "etc/app" },
    { kind: "whiteout", path: ".wh.top", hidden: "top" },
    { kind: "ignored", path: ".wh..wh.plnk" },
  ]);
  t.regex(judge([file("a/.wh.")]) as string, /is a whiteout that names no file/);
  t.regex(judge([file("a/.wh...")]) as string, /is a whiteout that names no file/);
});

test("absolute paths, '..' and NUL bytes are refused, in paths and in hard-link targets", (t) => {
  t.regex(judge([file("/etc/passwd")]) as string, /entry '\/etc\/passwd' has an absolute path in its path; refused/);
  t.regex(judge([file("a/../../etc/passwd")]) as string, /climbs out with '\.\.' in its path/);
  t.regex(judge([file("a/../b")]) as string, /climbs out with '\.\.'/);
  t.regex(judge([file("a\0b")]) as string, /NUL byte/);
  t.regex(judge([hardlink("x", "/etc/shadow")]) as string, /has an absolute path in its hard-link target/);
  t.regex(judge([hardlink("x", "../outside")]) as string, /climbs out with '\.\.' in its hard-link target/);
  t.regex(judge([file(".")]) as string, /would replace the layer's root directory/);
});

test("nothing may go through, or replace, a symlink the layer made", (t) => {
  t.regex(judge([symlink("etc", "/etc"), file("etc/passwd")]) as string, /entry 'etc\/passwd' goes through the symlink 'etc'/);
  t.regex(judge([symlink("a", "b"), dir("a/")]) as string, /replaces the symlink 'a'/);
  t.regex(judge([symlink("a", "b"), symlink("a", "c")]) as string, /replaces the symlink 'a'/);
  // A hard link to a symlink is another symlink.
  t.regex(judge([symlink("s", "/"), hardlink("h", "s"), file("h/etc/passwd")]) as string, /goes through the symlink 'h'/);
  t.regex(judge([symlink("s", "/etc"), hardlink("h", "s/shadow")]) as string, /goes through the symlink 's'/);
  t.regex(judge([symlink("s", "/etc"), file("s/.wh.passwd")]) as string, /goes through the symlink 's'/);
});

test("relative symlinks that climb above the layer are refused; absolute ones mean the image's root", (t) => {
  t.regex(judge([symlink("l", "../x")]) as string, /is a symlink to '\.\.\/x', which leads out of the layer/);
  t.regex(judge([symlink("a/l", "../../x")]) as string, /leads out of the layer/);
  t.regex(judge([symlink("a/l", "b/../../../x")]) as string, /leads out of the layer/);
  t.regex(judge([symlink("l", "")]) as string, /is a symlink to nothing/);
  t.is((judge([symlink("a/b/l", "../../x")]) as AdmittedEntry[]).length, 1);
  t.is((judge([symlink("l", "/../../../etc")]) as AdmittedEntry[]).length, 1);
});

// --- Properties -----------------------------------------------------------------------------

/** Pieces that make hostile paths likely: dots, slashes, whiteout prefixes, names reused as symlinks. */
const PIECES = ["a", "b", "l", "..", ".", "", ".wh.a", ".wh..wh..opq", ".wh.", "/"];
const pathArbitrary = (extra: string[] = []) => fc.array(fc.constantFrom(...PIECES, ...extra), { minLength: 1, maxLength: 5 }).map((parts) => parts.join("/"));
const entryArbitrary = (extra: string[] = []): fc.Arbitrary<RawEntry> =>
  fc.record({
    path: pathArbitrary(extra),
    type: fc.constantFrom("File", "Directory", "SymbolicLink", "Link") as fc.Arbitrary<RawEntry["type"]>,
    linkpath: pathArbitrary(extra),
  });

const inside = (root: string, path: string) => {
  const fromRoot = relative(root, path);
  return fromRoot === "" || (!fromRoot.startsWith(`..${sep}`) && fromRoot !== ".." && !posix.isAbsolute(fromRoot));
};

test("property: every admitted path, hard-link target and whiteout stays inside the layer, and none goes through a symlink", (t) => {
  const root = "/layer";
  fc.assert(
    fc.property(fc.array(entryArbitrary(), { maxLength: 12 }), (entries) => {
      const symlinks = new Set<string>();
      const guard = new LayerEntryGuard("fuzzed layer");
      for (const entry of entries) {
        let admitted: AdmittedEntry;
        try {
          admitted = guard.admit(entry);
        } catch (error) {
          if (error instanceof ImageError && error.reason === "unsafe_path") return true;
          throw error;
        }
        const written = [admitted.path];
        if (admitted.kind === "hardlink") written.push(admitted.target);
        if (admitted.kind === "whiteout") written.push(admitted.hidden);
        if (admitted.kind === "opaque") written.push(admitted.directory);
        for (const path of written) {
          if (!inside(root, resolve(root, path))) return false;
          const parts = path.split("/");
          for (let end = 1; end < parts.length; end += 1) if (symlinks.has(parts.slice(0, end).join("/"))) return false;
        }
        if (admitted.kind === "symlink" || (admitted.kind === "hardlink" && symlinks.has(admitted.target))) symlinks.add(admitted.path);
      }
      return true;
    }),
    { numRuns: 3000 },
  );
  t.pass();
});

/** Every path under `dir` with what it is, without following symlinks, to compare before and after. */
async function snapshot(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for (const name of (await readdir(join(dir, prefix))).sort()) {
    const path = join(prefix, name);
    const stat = await lstat(join(dir, path));
    if (stat.isSymbolicLink()) found.push(`${path} -> ${await readlink(join(dir, path))}`);
    else if (stat.isFile()) found.push(`${path} (${stat.nlink} links) ${await readFile(join(dir, path), "utf8")}`);
    else if (stat.isDirectory()) found.push(`${path}/`, ...(await snapshot(dir, path)));
    else found.push(`${path} (special)`);
  }
  return found;
}

/** A hang is a failure too (a hostile layer must not be able to stall a borglet). */
async function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still unpacking after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test("links unpack whatever their targets: under their own path, to symlinks, as hard links", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "corral-images-links-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const layer = join(dir, "layer");
  await mkdir(layer);
  const tarFile = join(dir, "layer.tar");
  // node-tar alone never finishes `a -> a/a` (its path reservations deadlock).
  await writeFile(tarFile, tarOf([
    { path: "a", type: "SymbolicLink", linkpath: "a/a" },
    { path: "f", type: "File", body: "content" },
    { path: "h", type: "Link", linkpath: "f" },
    { path: "s", type: "SymbolicLink", linkpath: "/bin/busybox" },
    { path: "hs", type: "Link", linkpath: "s" },
  ]));
  const report = await withinMs(unpackLayerFile(tarFile, layer, "links layer"), 5000);
  t.is(report.entries, 5);
  t.is(await readlink(join(layer, "a")), "a/a");
  t.is(await readlink(join(layer, "s")), "/bin/busybox", "absolute targets are kept as they are");
  t.is(await readlink(join(layer, "hs")), "/bin/busybox");
  const [file, hard] = await Promise.all([lstat(join(layer, "f")), lstat(join(layer, "h"))]);
  t.is(hard.ino, file.ino);
  t.is(file.nlink, 2);
});

/** Stands for the absolute path of a directory beside the layer, filled in per run. */
const OUTSIDE = "@outside@";

test("property: unpacking any layer, accepted or refused, writes nothing outside its directory", async (t) => {
  // Names that aim at the world outside the layer: absolute, and climbing out of it.
  const aims = [OUTSIDE, `${OUTSIDE}/canary`, "../outside", "../../outside/canary"];
  const tars = await mkdtemp(join(tmpdir(), "corral-images-fuzz-tars-"));
  t.teardown(() => rm(tars, { recursive: true, force: true }));
  await fc.assert(
    fc.asyncProperty(fc.array(entryArbitrary(aims), { minLength: 1, maxLength: 8 }), async (entries) => {
      const sandbox = await mkdtemp(join(tmpdir(), "corral-images-fuzz-"));
      try {
        const outside = join(sandbox, "outside");
        await mkdir(outside);
        await writeFile(join(outside, "canary"), "untouched\n");
        const before = await snapshot(sandbox);
        const aimed = entries.map((entry) => ({ ...entry, path: entry.path.replaceAll(OUTSIDE, outside), linkpath: entry.linkpath?.replaceAll(OUTSIDE, outside) }));
        const layer = join(sandbox, "layer");
        await mkdir(layer);
        const tarFile = join(tars, "layer.tar");
        await writeFile(tarFile, tarOf(aimed));
        try {
          await withinMs(unpackLayerFile(tarFile, layer, "fuzzed layer"), 5000);
        } catch (error) {
          if (!(error instanceof ImageError)) throw error;
        }
        await rm(layer, { recursive: true, force: true });
        const after = await snapshot(sandbox);
        return after.join("\n") === before.join("\n");
      } finally {
        await rm(sandbox, { recursive: true, force: true });
      }
    }),
    { numRuns: 150 },
  );
  t.pass();
});
