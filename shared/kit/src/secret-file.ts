import { readFileSync, statSync } from "node:fs";

/**
 * A secret (a token, a password) from a file, as its first line: never from a flag, whose
 * value shows in `ps` and in logs. Like ssh with a private key, a file that others may read
 * is refused: the secret is no longer one.
 */
export function readSecretFile(path: string, flag: string): string {
  const secret = readOwnersFile(path, flag).split("\n")[0]!.trim();
  if (secret === "") throw new Error(`${flag}: ${path} is empty; it should hold the secret on its first line`);
  return secret;
}

/** A private key (PEM, several lines) from a file only its owner may read, refused otherwise as readSecretFile refuses. */
export function readSecretPem(path: string, flag: string): string {
  const pem = readOwnersFile(path, flag);
  if (!pem.includes("PRIVATE KEY-----")) throw new Error(`${flag}: ${path} holds no PEM private key`);
  return pem;
}

function readOwnersFile(path: string, flag: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    throw new Error(`${flag}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if ((mode & 0o077) !== 0) throw new Error(`${flag}: ${path} may be read by others (mode ${(mode & 0o777).toString(8)}); make it the owner's alone: chmod 600 ${path}`);
  return readFileSync(path, "utf8");
}

/**
 * A service's secret from the file its flag names (none when the flag is empty), or, when
 * the file is unfit, the reason on stderr and exit status 2, as for any bad flag.
 */
export function secretFromFlag(path: string, flag: string, program: string): string | undefined {
  if (path === "") return undefined;
  return fromFlag(() => readSecretFile(path, flag), program);
}

/** What a flag's file holds, loaded by `load`; when it cannot be, the reason on stderr and exit status 2, as for any bad flag. */
export function fromFlag<T>(load: () => T, program: string): T {
  try {
    return load();
  } catch (error) {
    process.stderr.write(`${program}: ${(error as Error).message}\n`);
    process.exit(2);
  }
}
