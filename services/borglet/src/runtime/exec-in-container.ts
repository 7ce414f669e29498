import { readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execForCheck } from "../exec-check.js";
import type { IsolatedRuntime } from "./isolated-runtime.js";

/** How long a timed-out check waits for `runc exec` to name the command it started. */
const PID_FILE_WAIT_MS = 5_000;
const PID_FILE_POLL_MS = 20;

/**
 * A check command run inside a task's container. On a timeout, killing `runc exec` would
 * leave the command running in the container, and on a busy machine runc may not have
 * written the command's pid yet. So the command itself is killed first, by the pid runc
 * writes, waiting for that pid while runc still runs; `runc exec` is killed only after.
 */
export async function execInContainer(runtime: IsolatedRuntime, containerId: string, bundle: string, command: readonly string[], timeoutMs: number): Promise<{ exitCode: number | null; output: string }> {
  const pidFile = join(bundle, `check-${process.hrtime.bigint()}.pid`);
  const killCommand = (): boolean => {
    let pid: number;
    try {
      pid = Number(readFileSync(pidFile, "utf8").trim());
    } catch {
      return false; // not written yet
    }
    if (!Number.isInteger(pid) || pid <= 0) return false; // written only in part
    // The command runs in the container's pid namespace: a pid in ours is a reused one, not it.
    if (inOwnPidNamespace(pid)) return true;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
    return true;
  };
  let runcExited = false;
  const stopCommand = async () => {
    const deadline = Date.now() + PID_FILE_WAIT_MS;
    while (!killCommand() && !runcExited && Date.now() < deadline) await sleep(PID_FILE_POLL_MS);
  };
  try {
    const result = await execForCheck(runtime.runc, ["--root", runtime.runcRoot, "exec", "--pid-file", pidFile, containerId, ...command], timeoutMs, undefined, stopCommand);
    runcExited = true;
    return result;
  } finally {
    rmSync(pidFile, { force: true });
  }
}

/** Whether the process is in the borglet's own pid namespace (or gone, which is as safe to skip). */
function inOwnPidNamespace(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`) === readlinkSync("/proc/self/ns/pid");
  } catch {
    return true;
  }
}
