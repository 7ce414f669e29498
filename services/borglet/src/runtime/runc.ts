// How the borglet talks to runc and reads what runc leaves behind: its command lines, the pid
// file, its exit status, and its last word on failure. Apart from IsolatedTask so the task's
// lifecycle reads as states and events, with runc's conventions kept in one place.
import { existsSync, readFileSync } from "node:fs";
import { constants } from "node:os";
import type { TaskExit } from "../host-task.js";
import type { Spawner } from "../spawner.js";
import type { IsolatedRuntime } from "./isolated-runtime.js";

/**
 * `runc run --keep`: runc stays in the foreground as the container's supervisor, writes the
 * init's pid to `pidFile`, and keeps the container after exit so its OOM kills can be read.
 */
export function runcRunArgs(runtime: IsolatedRuntime, bundle: string, pidFile: string, containerId: string): string[] {
  return ["--root", runtime.runcRoot, "run", "--keep", "--bundle", bundle, "--pid-file", pidFile, containerId];
}

/** Removes the container whatever its state; resolves when runc is done, whether or not it succeeded. */
export function deleteContainer(spawner: Spawner, runtime: IsolatedRuntime, containerId: string): Promise<void> {
  return runToEnd(spawner, runtime.runc, ["--root", runtime.runcRoot, "delete", "--force", containerId]);
}

/** The container's init's pid, once runc has written it whole. */
export function readPidFile(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return pid;
}

/** How the container ended, from runc's exit: runc reports a container killed by signal N as 128 + N, as shells do. */
export function exitStatusOf(code: number | null, signal: NodeJS.Signals | null): Pick<TaskExit, "signal" | "exitCode"> {
  if (signal !== null) return { signal };
  if (code !== null && code > 128 && code < 128 + 65) return { signal: signalName(code - 128) };
  if (code !== null) return { exitCode: code };
  return {};
}

/** The last line a file holds (runc's own error, when it could not create the container). */
export function lastLine(path: string): string | undefined {
  try {
    const lines = readFileSync(path, "utf8").trim().split("\n");
    return lines.at(-1)?.slice(0, 1000) || undefined;
  } catch {
    return undefined;
  }
}

/** Runs a short command through the spawn helper and waits for its end; what it prints is not kept. */
function runToEnd(spawner: Spawner, file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve) => {
    spawner.spawn({ file, args, stdout: "/dev/null", stderr: "/dev/null" }, { spawned: () => {}, failed: () => resolve(), exited: () => resolve(), lost: () => resolve() });
  });
}

function signalName(number: number): string {
  const found = Object.entries(constants.signals).find(([, value]) => value === number);
  return found?.[0] ?? `signal ${number}`;
}
