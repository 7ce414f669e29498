import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type StartedProcess } from "./processes.js";
import { processStartTime } from "@corral/kit";
import { loaderFlags, OWN_FORM } from "./own-form.js";

// The teardown in the launcher's own form: the .ts through tsx, or the built .js.
const TEARDOWN_ENTRY = fileURLToPath(new URL(OWN_FORM === "built" ? "./orphaned-cell-main.js" : "./orphaned-cell-main.ts", import.meta.url));

/**
 * The watchdog, a shell reading a pipe whose write end only the starter holds (Node opens
 * every pipe close-on-exec, so the cell's own processes never inherit it). The kernel
 * closes that end however the starter ends, SIGKILL included, and the read then sees end
 * of file. A "release" line first means the starter stopped the cell itself. A shell costs
 * a megabyte while it waits; Node, with the teardown code, is started only when needed.
 * Arguments: $0 node, then node's arguments: the loader flags, the teardown entry, the cell directory.
 */
const WATCHDOG = `while IFS= read -r line; do [ "$line" = release ] && exit 0; done
exec "$0" "$@"`;

/** Each tied cell's watchdog, by the cell's directory. */
const watchdogs = new Map<string, ChildProcess>();

/**
 * Ties the cell in `dir` to this process: when it exits or is killed without calling
 * `releaseFromStarter(dir)` first, a watchdog started now (in a process group of its own,
 * so the signal that stops the starter's group leaves it be) stops every process the cell
 * file lists, the tasks and containers its borglets recorded, and its overlay mounts.
 * Start it before the cell's first process: from then on whatever the cell file records is
 * covered. Returns the watchdog (not part of the cell: `cell down` leaves it be).
 */
export function guardWithStarter(dir: string): Pick<StartedProcess, "pid" | "startTime" | "log"> {
  const cellDir = resolve(dir);
  if (watchdogs.has(cellDir)) throw new Error(`the cell in ${cellDir} is already tied to this process`);
  mkdirSync(join(cellDir, "logs"), { recursive: true });
  const log = join(cellDir, "logs", "watchdog.log");
  const fd = openSync(log, "a");
  let watchdog: ChildProcess;
  try {
    watchdog = spawn("/bin/sh", ["-c", WATCHDOG, process.execPath, ...loaderFlags(OWN_FORM), TEARDOWN_ENTRY, cellDir], {
      detached: true,
      stdio: ["pipe", fd, fd],
      cwd: cellDir,
    });
  } finally {
    closeSync(fd);
  }
  if (watchdog.pid === undefined) throw new Error(`could not start the watchdog of the cell in ${cellDir}`);
  // Neither the watchdog nor the pipe to it may keep this process alive.
  watchdog.unref();
  const pipe = watchdog.stdin!;
  (pipe as unknown as { unref(): void }).unref();
  // A watchdog that died (killed by hand) leaves the pipe broken; the starter carries on.
  pipe.on("error", () => {});
  watchdog.on("error", () => {});
  watchdogs.set(cellDir, watchdog);
  return { pid: watchdog.pid, startTime: processStartTime(watchdog.pid) ?? 0, log };
}

/**
 * The starter has stopped the cell in `dir` itself: its watchdog exits without a teardown.
 * Does nothing for a cell that was never tied to this process.
 */
export function releaseFromStarter(dir: string): void {
  const cellDir = resolve(dir);
  const watchdog = watchdogs.get(cellDir);
  if (watchdog === undefined) return;
  watchdogs.delete(cellDir);
  watchdog.stdin?.end("release\n");
}
