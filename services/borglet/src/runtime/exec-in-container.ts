import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { execForCheck } from "../exec-check.js";
import type { IsolatedRuntime } from "./isolated-task.js";

/**
 * A check command run inside a task's container. On a timeout, killing `runc exec` would
 * leave the command running in the container: its own pid (from runc's pid file) is killed,
 * at the timeout and again once `runc exec` is gone, since on a busy machine runc may write
 * the pid file only after the timeout fired.
 */
export async function execInContainer(runtime: IsolatedRuntime, containerId: string, bundle: string, command: readonly string[], timeoutMs: number): Promise<{ exitCode: number | null; output: string }> {
  const pidFile = join(bundle, `check-${process.hrtime.bigint()}.pid`);
  let timedOut = false;
  const killCommand = () => {
    try {
      process.kill(Number(readFileSync(pidFile, "utf8").trim()), "SIGKILL");
    } catch {
      // not started, or already gone
    }
  };
  try {
    const result = await execForCheck(runtime.runc, ["--root", runtime.runcRoot, "exec", "--pid-file", pidFile, containerId, ...command], timeoutMs, undefined, () => {
      timedOut = true;
      killCommand();
    });
    if (timedOut) killCommand();
    return result;
  } finally {
    rmSync(pidFile, { force: true });
  }
}
