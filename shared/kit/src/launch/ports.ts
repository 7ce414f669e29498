import { createServer } from "node:net";
import getPort from "get-port";

export async function freePort(): Promise<number> {
  return getPort({ host: "127.0.0.1" });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

// Below Linux's ephemeral range (32768+), so outgoing connections do not take these ports.
const RANGE_LOW = 10_000;
const RANGE_HIGH = 32_000;

/**
 * A random block of ports that are free right now, for a borglet to hand to its tasks.
 * Random placement keeps several local cells (tests run concurrently) out of each other's way.
 */
export async function freePortRange(size: number, avoid: ReadonlyArray<readonly [number, number]> = []): Promise<[number, number]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const low = RANGE_LOW + Math.floor(Math.random() * (RANGE_HIGH - RANGE_LOW - size));
    const high = low + size - 1;
    if (avoid.some(([a, b]) => low <= b && a <= high)) continue;
    let allFree = true;
    for (let port = low; port <= high && allFree; port++) allFree = await canBind(port);
    if (allFree) return [low, high];
  }
  throw new Error(`no free block of ${size} ports between ${RANGE_LOW} and ${RANGE_HIGH}`);
}
