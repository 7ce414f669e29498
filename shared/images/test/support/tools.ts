import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Runs a real tool and returns its stdout; a failure shows the tool's own complaint. */
export async function run(command: string, args: string[], options: { cwd?: string } = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { ...options, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`${command} ${args.join(" ")} failed: ${stderr || (error as Error).message}`);
  }
}

/** The digest of a file's uncompressed content, by gzip(1) and sha256sum(1): a check independent of the code under test. */
export async function uncompressedDigest(file: string): Promise<string> {
  const out = await run("sh", ["-c", 'gzip -dcf < "$1" | sha256sum', "sh", file]);
  return `sha256:${out.split(" ")[0]}`;
}
