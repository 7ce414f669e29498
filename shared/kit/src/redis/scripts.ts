import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";

const SCRIPT_DIR = fileURLToPath(new URL("./scripts/", import.meta.url));

/** The fenced scripts, registered on a connection from `<name>-<numKeys>.lua` files. */
export interface FencedScripts {
  acquireLeadership(lease: string, epoch: string, leaseConnection: string, candidate: string, ttlMs: number, connectionId: string, ...holderSeenGone: string[]): Promise<number>;
  renewLeadership(lease: string, leaseConnection: string, holder: string, ttlMs: number, connectionId: string): Promise<number>;
  releaseLeadership(lease: string, leaseConnection: string, holder: string): Promise<number>;
  fencedCommit(epochKey: string, log: string, ...args: (string | Buffer | number)[]): Promise<string>;
  writeCheckpoint(checkpoint: string, log: string, chunks: string, position: string, chunkCount: number): Promise<number>;
}

function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

export function registerScripts(redis: Redis): Redis & FencedScripts {
  for (const file of readdirSync(SCRIPT_DIR)) {
    const match = /^(.+)-(\d+)\.lua$/.exec(file);
    if (match === null) continue;
    const [, name, numberOfKeys] = match as unknown as [string, string, string];
    redis.defineCommand(camelCase(name), {
      numberOfKeys: Number(numberOfKeys),
      lua: readFileSync(SCRIPT_DIR + file, "utf8"),
    });
  }
  return redis as Redis & FencedScripts;
}
