import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newLeaderKeyPair, newToken, readSecretFile, readSecretPem } from "@corral/kit";

/** The local cell's first admin: the name, and the file (mode 600) holding its token, which the gateway and the CLI both read. */
export interface CellAdmin {
  user: string;
  tokenFile: string;
}

export const DEFAULT_ADMIN = "admin";

/**
 * The admin token of the cell in `dir`, made on its first start and kept after: a cell
 * brought down and up again keeps its jobs, and the token its users saved keeps working.
 */
export function ensureAdminToken(dir: string, user: string): CellAdmin {
  return { user, tokenFile: ensureSecretFile(join(dir, "admin.token"), newToken, "the cell's admin token") };
}

/**
 * The password of the cell's Redis (its servers and Sentinels), made on the first start and
 * kept after (the data it guards is kept too), in a file only its owner reads: the servers
 * and the masters read it from there, so it is never on a command line.
 */
export function ensureRedisPassword(dir: string): string {
  return ensureSecretFile(join(dir, "redis.password"), () => randomBytes(32).toString("base64url"), "the cell's Redis password");
}

/** The masters' key that signs each leader's term (mode 600), and its public half for the borglets. */
export interface LeaderKeyFiles {
  privateKeyFile: string;
  publicKeyFile: string;
}

/** The cell's leader key pair, made on the first start and kept after, as the cell's other secrets. */
export function ensureLeaderKey(dir: string): LeaderKeyFiles {
  const files = { privateKeyFile: join(dir, "leader.key"), publicKeyFile: join(dir, "leader.pub") };
  if (existsSync(files.privateKeyFile) && existsSync(files.publicKeyFile)) {
    readSecretPem(files.privateKeyFile, "the cell's leader key");
    return files;
  }
  const pair = newLeaderKeyPair();
  writeFileSync(files.privateKeyFile, pair.privateKey, { mode: 0o600 });
  writeFileSync(files.publicKeyFile, pair.publicKey, { mode: 0o644 });
  return files;
}

function ensureSecretFile(path: string, make: () => string, what: string): string {
  if (existsSync(path)) readSecretFile(path, what);
  else writeFileSync(path, `${make()}\n`, { mode: 0o600, flag: "wx" });
  return path;
}

/** The admin token of a started cell, for whoever acts as its admin (the CLI, tests, load tests). */
export function adminTokenOf(cell: { admin?: CellAdmin | undefined }): string | undefined {
  return cell.admin === undefined ? undefined : readSecretFile(cell.admin.tokenFile, "the cell's admin token");
}

/** The password of a started cell's Redis, for whoever reads its state directly (the checkpoint commands, tests). */
export function redisPasswordOf(cell: { redisPasswordFile?: string | undefined }): string | undefined {
  return cell.redisPasswordFile === undefined ? undefined : readSecretFile(cell.redisPasswordFile, "the cell's Redis password");
}
