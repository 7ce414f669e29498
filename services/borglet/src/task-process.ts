import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import type { Lease } from "@corral/contracts";
import { substitutePorts } from "@corral/spec";
import type { TaskPaths } from "./host-task.js";

/**
 * What every task finds in its environment, whatever its runtime: the job's env with its
 * ports filled in, then who and where it is (CORRAL_TASK, CORRAL_HOST, CORRAL_INCARNATION),
 * its ports (CORRAL_PORT0…, and PORT for the first).
 */
export function taskEnvironment(lease: Lease, host: string): Record<string, string> {
  const env: Record<string, string> = Object.fromEntries(Object.entries(lease.env).map(([key, value]) => [key, substitutePorts(value, lease.ports)]));
  env["CORRAL_TASK"] = lease.taskId;
  env["CORRAL_HOST"] = host;
  env["CORRAL_INCARNATION"] = String(lease.incarnation);
  lease.ports.forEach((port, index) => {
    env[`CORRAL_PORT${index}`] = String(port);
  });
  if (lease.ports[0] !== undefined) env["PORT"] = String(lease.ports[0]);
  return env;
}

/**
 * Starts a task's process (or its container's supervisor) in a process group of its own,
 * so it outlives the borglet and a stop reaches all it forked, with output appended to the
 * task's log files.
 */
export function spawnLogged(file: string, args: readonly string[], paths: TaskPaths, env?: NodeJS.ProcessEnv): { child: ChildProcess; spawnError: () => Error | undefined } {
  const stdout = openSync(paths.stdout, "a");
  const stderr = openSync(paths.stderr, "a");
  let child: ChildProcess;
  try {
    child = spawn(file, args, { detached: true, stdio: ["ignore", stdout, stderr], ...(env === undefined ? {} : { env }) });
  } finally {
    closeSync(stdout);
    closeSync(stderr);
  }
  // Without a listener, a spawn failure (ENOENT, EMFILE) is emitted again as an uncaught
  // error and would take the borglet down.
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });
  return { child, spawnError: () => spawnError };
}

/** SIGTERM now, SIGKILL after the grace period; the timer is returned so an exit can cancel it. */
export function terminate(signal: (signal: NodeJS.Signals) => void, gracePeriodMs: number): NodeJS.Timeout {
  signal("SIGTERM");
  return setTimeout(() => signal("SIGKILL"), gracePeriodMs);
}
