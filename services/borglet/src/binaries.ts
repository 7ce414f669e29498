import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

/**
 * Finds a task's program the way a shell would, but in the borglet's package directories
 * first (Borg ships binaries as packages; here, `--binary-path`). Undefined with the list
 * of places looked in, so the task's failure says where it was sought.
 */
export function resolveBinary(binary: string, searchPath: readonly string[]): { path?: string; searched: string[] } {
  const candidates = isAbsolute(binary)
    ? [binary]
    : binary.includes("/")
      ? []
      : [...searchPath, ...(process.env["PATH"] ?? "").split(delimiter)].filter((d) => d !== "").map((dir) => join(dir, binary));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return { path: candidate, searched: candidates };
    } catch {
      // keep looking
    }
  }
  return { searched: candidates };
}
