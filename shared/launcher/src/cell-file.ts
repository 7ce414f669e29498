/** The cell file: what a local cell is made of, so it can be found and stopped later. */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { CorralError } from "@corral/contracts";

const startedProcessSchema = z.object({
  role: z.string(),
  name: z.string(),
  pid: z.number().int(),
  startTime: z.number(),
  log: z.string(),
  command: z.string(),
  args: z.array(z.string()),
  cwd: z.string().optional(),
  host: z.string().optional(),
  address: z.string().optional(),
});

const networkSchema = z.object({
  bridge: z.string(),
  rootAddress: z.string(),
  hosts: z.array(z.object({ name: z.string(), netns: z.string(), address: z.string(), link: z.string() })),
});

const cellFileSchema = z.object({
  cell: z.string(),
  dir: z.string(),
  gateway: z.string(),
  /** host:port of the gateway's DNS server for the cell's names (absent in cell files of older versions) */
  dns: z.string().optional(),
  nats: z.string(),
  redis: z.string(),
  /** every service's /metrics URL (absent in cell files of older versions) */
  metrics: z.array(z.string()).optional(),
  startedAt: z.string(),
  processes: z.array(startedProcessSchema),
  /** a federation's cells, each with its own Redis, and with `natsPerCell` its own nats-server (`nats`; else all use `nats` above) */
  cells: z.array(z.object({ cell: z.string(), redis: z.string(), nats: z.string().optional() })).optional(),
  /** every gateway's URL when there are several; the first is also `gateway` */
  gateways: z.array(z.string()).optional(),
  /** a multi-host cell's hosts: network namespaces on one bridge (host-network.ts) */
  network: networkSchema.optional(),
  /** the first admin: its name and the file (mode 600) with its token (absent in cell files of older versions) */
  admin: z.object({ user: z.string(), tokenFile: z.string() }).optional(),
  /** the file (mode 600) with the password of the cell's Redis servers and Sentinels (absent in cell files of older versions) */
  redisPasswordFile: z.string().optional(),
  /** every client's NATS credentials and the servers' authorization config (absent in cell files of older versions) */
  natsAuth: z.object({ dir: z.string(), config: z.string() }).optional(),
  /** the cell's CA and its servers' certificate, when NATS and the gateway run TLS */
  tls: z.object({ ca: z.string(), cert: z.string(), key: z.string() }).optional(),
  /** the masters' leader key and its public half (absent in cell files of older versions) */
  leaderKey: z.object({ privateKeyFile: z.string(), publicKeyFile: z.string() }).optional(),
});
export type CellFile = z.infer<typeof cellFileSchema>;

export function cellFilePath(dir: string): string {
  return join(dir, "cell.json");
}

/**
 * Records the cell's processes, so `cell down` (or a cleanup after a crash) finds every one.
 * Written whole and renamed into place: a watchdog tearing the cell down may read it at
 * any moment, and must never see half a file.
 */
export function writeCellFile(cell: CellFile): void {
  const path = cellFilePath(cell.dir);
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, JSON.stringify(cell, null, 2) + "\n");
  renameSync(partial, path);
}

export function readCellFile(dir: string): CellFile | undefined {
  const path = cellFilePath(dir);
  if (!existsSync(path)) return undefined;
  const parsed = cellFileSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) throw new CorralError("bad_request", `${path} is not a cell file written by corral: ${parsed.error.message}`);
  return parsed.data;
}

