import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { CorralError } from "@corral/contracts";

const INSTALL_HINTS: Record<string, string> = {
  "nats-server": "sudo apt-get install nats-server   (Debian/Ubuntu; or see https://docs.nats.io)",
  "redis-server": "sudo apt-get install redis-server   (Debian/Ubuntu; or see https://redis.io/docs/install)",
};

// Debian installs nats-server in /usr/sbin, which is not on every user's PATH.
const EXTRA_DIRS = ["/usr/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin"];

function searchDirs(): string[] {
  // CORRAL_EXECUTABLE_PATH replaces the whole search, so a test can show what a machine without the servers sees.
  const override = process.env["CORRAL_EXECUTABLE_PATH"];
  if (override !== undefined) return override.split(delimiter).filter((d) => d !== "");
  return [...(process.env["PATH"] ?? "").split(delimiter), ...EXTRA_DIRS].filter((d) => d !== "");
}

/** The first executable `name` in `dirs`, in their order. */
function firstIn(dirs: readonly string[], name: string): string | undefined {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

export function findExecutable(name: string): string | undefined {
  return firstIn(searchDirs(), name);
}

/** The executable's path, or an error that says how to install it. */
export function requireExecutable(name: string): string {
  const found = findExecutable(name);
  if (found !== undefined) return found;
  const hint = INSTALL_HINTS[name] ?? `install ${name}`;
  throw new CorralError("unavailable", `${name} was not found on PATH or in ${EXTRA_DIRS.join(", ")}. Install it:\n  ${hint}`);
}

const SYSTEM_DIRS = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];
const SYSTEM_PACKAGES: Record<string, string> = { ip: "iproute2", tc: "iproute2", nft: "nftables", nsenter: "util-linux" };

/**
 * A system tool (ip, tc, nft, nsenter) from the system's own directories, never from PATH: npm puts
 * node_modules/.bin first on PATH, and a package may ship a command of the same name
 * (@vercel/nft installs an `nft`).
 */
export function systemExecutable(name: string): string {
  const found = firstIn(SYSTEM_DIRS, name);
  if (found !== undefined) return found;
  throw new CorralError("unavailable", `${name} was not found in ${SYSTEM_DIRS.join(", ")}; install it (Debian: ${SYSTEM_PACKAGES[name] ?? name})`);
}
