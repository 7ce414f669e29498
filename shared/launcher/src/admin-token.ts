import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { newToken, readSecretFile } from "@corral/kit";

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
  const tokenFile = join(dir, "admin.token");
  if (existsSync(tokenFile)) readSecretFile(tokenFile, "the cell's admin token");
  else writeFileSync(tokenFile, `${newToken()}\n`, { mode: 0o600, flag: "wx" });
  return { user, tokenFile };
}

/** The admin token of a started cell, for whoever acts as its admin (the CLI, tests, load tests). */
export function adminTokenOf(cell: { admin?: CellAdmin | undefined }): string | undefined {
  return cell.admin === undefined ? undefined : readSecretFile(cell.admin.tokenFile, "the cell's admin token");
}
