#!/usr/bin/env node
// The second half of `npm run build`: tsc emits each package's JavaScript into its dist/;
// this puts beside it what tsc does not emit (Lua scripts, plain .mjs helpers, the web UI),
// at the same place relative to the code that reads them, so the built services run on
// plain node (`node --conditions=corral-built …`) with no TypeScript at run time.
import { cpSync, existsSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, URL } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ASSET = /\.(lua|mjs)$/;

/** Every asset file under a package's src/, copied to the same path under its dist/src/. */
function copySourceAssets(packageDir) {
  const copied = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (ASSET.test(entry.name)) {
        const target = join(packageDir, "dist", relative(packageDir, path));
        cpSync(path, target);
        copied.push(relative(ROOT, target));
      }
    }
  };
  walk(join(packageDir, "src"));
  return copied;
}

const packages = ["shared", "services"].flatMap((group) => readdirSync(join(ROOT, group)).map((name) => join(ROOT, group, name)));
const copied = [];
for (const packageDir of packages) {
  if (!existsSync(join(packageDir, "src"))) continue;
  if (!existsSync(join(packageDir, "dist"))) {
    process.stderr.write(`copy-assets: ${relative(ROOT, packageDir)}/dist is missing; run tsc -b first (npm run build does)\n`);
    process.exit(1);
  }
  copied.push(...copySourceAssets(packageDir));
}
// The gateway reads its UI from ui/ beside src/: the same from dist/src/.
const gateway = join(ROOT, "services", "gateway");
cpSync(join(gateway, "ui"), join(gateway, "dist", "ui"), { recursive: true, filter: (path) => !path.endsWith("tsconfig.json") });
copied.push(relative(ROOT, join(gateway, "dist", "ui")) + "/");
process.stdout.write(`copied ${copied.length} assets beside the built code (${[...new Set(copied.map((path) => dirname(path)))].length} folders)\n`);
