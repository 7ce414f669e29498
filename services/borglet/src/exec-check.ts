import { spawn } from "node:child_process";

const MAX_OUTPUT = 64 * 1024;

/**
 * Runs a check command to its end or its timeout; a non-zero exit is an answer, not an
 * error. It runs in a process group of its own, so a timeout kills all it started.
 * `stopElsewhere` stops what runs outside that group (a command `runc exec` started in a
 * container); the group is killed once it has settled, since killing `runc exec` first
 * could orphan a command it was still starting.
 */
export function execForCheck(
  file: string,
  args: readonly string[],
  timeoutMs: number,
  env?: NodeJS.ProcessEnv,
  stopElsewhere?: () => Promise<void>,
  runAs?: { uid: number; gid: number; cwd: string },
): Promise<{ exitCode: number | null; output: string }> {
  return new Promise((resolve) => {
    let output = "";
    let timedOut = false;
    const child = spawn(file, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], ...(env === undefined ? {} : { env }), ...(runAs ?? {}) });
    const collect = (chunk: Buffer) => {
      if (output.length < MAX_OUTPUT) output += chunk.toString("utf8");
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    let exited = false;
    child.once("exit", () => (exited = true));
    // Once the child is reaped its pid may be another process group's: never signal it then.
    const killGroup = () => {
      if (exited) return;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      if (stopElsewhere === undefined) killGroup();
      else void stopElsewhere().finally(killGroup);
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ exitCode: null, output: error.message });
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ exitCode: timedOut ? null : code, output });
    });
  });
}
