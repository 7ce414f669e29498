import { chmodSync, copyFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { REPO_ROOT } from "./own-form.js";

const EXAMPLES = join(REPO_ROOT, "deploy", "examples", "bin");

/**
 * The example binaries (hello_world_webserver) copied into the cell's directory, where a
 * task running as its owner's own uid can reach them even when the repository sits in a
 * directory closed to others (a home directory). They are ES modules, as in the repository.
 */
export function ensureCellBinaries(dir: string): string {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true, mode: 0o755 });
  chmodSync(bin, 0o755);
  writeFileSync(join(bin, "package.json"), '{ "type": "module" }\n', { mode: 0o644 });
  for (const name of readdirSync(EXAMPLES)) {
    copyFileSync(join(EXAMPLES, name), join(bin, name));
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

/**
 * The cell's directory made ready for tasks that run as their owners' uids: others may pass
 * through it (its secrets are mode 600, and passing is not listing), and it holds the
 * example binaries. If they still cannot reach it, tasks will run as the starter: said here.
 */
export function prepareCellDir(dir: string, progress: (message: string) => void): void {
  chmodSync(dir, (statSync(dir).mode & 0o777) | 0o011);
  ensureCellBinaries(dir);
  const why = tasksRunAsStarter(dir);
  if (why !== undefined) progress(`tasks will run as you, not as their owners' own uids, and containers' root as the machine's: ${why}`);
}

/** Why the cell's tasks must run as whoever started it rather than as their owners' own uids, if they must. */
export function tasksRunAsStarter(dir: string): string | undefined {
  if (process.getuid?.() !== 0) return "the cell was not started as root, so its borglets cannot switch users";
  if (!passableByOthers(dir)) return `a directory above ${dir} is closed to other users (chmod o+x it, or start the cell elsewhere), so tasks could not reach their sandboxes`;
  return undefined;
}

/** Whether another user can pass through every directory down to `dir`: a task run as its owner's uid must, to reach its sandbox. */
export function passableByOthers(dir: string): boolean {
  for (let at = dir; ; at = dirname(at)) {
    if ((statSync(at).mode & 0o001) === 0) return false;
    if (dirname(at) === at) return true;
  }
}
