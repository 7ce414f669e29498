import { execFile } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { unmountRootfs } from "@corral/images";
import type { IsolatedRuntime } from "./isolated-runtime.js";

const run = promisify(execFile);

/**
 * Containers and task roots no task record knows: a borglet that died between mounting a
 * root and recording the container, or while tearing one down, left them. They are removed
 * at the next start (runc's state and cgroups, the overlay, the bundle). Returns their ids.
 */
export async function sweepContainerLeftovers(runtime: IsolatedRuntime, dataDir: string, known: ReadonlySet<string>): Promise<string[]> {
  const listed = await run(runtime.runc, ["--root", runtime.runcRoot, "list", "-q"]).then(
    ({ stdout }) => stdout.split("\n").filter((id) => id !== ""),
    () => [] as string[],
  );
  let bundles: string[] = [];
  try {
    bundles = readdirSync(join(dataDir, "bundles"));
  } catch {
    // none yet
  }
  const unknown = [...new Set([...listed, ...bundles])].filter((id) => !known.has(id));
  for (const id of unknown) {
    await run(runtime.runc, ["--root", runtime.runcRoot, "delete", "--force", id]).catch(() => {});
    const bundle = join(dataDir, "bundles", id);
    // Only a root that came off may be removed: deleting through a mounted one would reach the image's layers.
    const unmounted = await unmountRootfs(join(bundle, "fs")).then(
      () => true,
      () => false,
    );
    if (unmounted) rmSync(bundle, { recursive: true, force: true });
  }
  return unknown;
}
