import { createServer } from "node:net";
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isSameProcessAlive, processStartTime } from "./processes.js";

// Both below Linux's ephemeral range (32768+), so no outgoing connection takes one of these
// ports between the moment it is chosen and the moment a server binds it; and apart, so a
// borglet's task ports never take a service's.
const RANGE_LOW = 10_000;
const RANGE_HIGH = 26_000;
const SERVICE_LOW = 26_000;
const SERVICE_HIGH = 32_700;

/**
 * Ports are chosen seconds before the server that gets one binds it, and several processes
 * (concurrent test files, a cell started by hand) choose at once: a port free to bind is not
 * free to hand out. Each handed-out port is reserved by a file here holding the owner's pid.
 * A reservation stands while its owner lives, or for a minute after it was made (the launcher
 * of `corral cell up` exits at once; its servers have bound their ports by then).
 */
const RESERVATIONS = join(tmpdir(), "corral-ports");
const RESERVATION_GRACE_MS = 60_000;

const OWNER = `${process.pid} ${processStartTime(process.pid) ?? 0}`;

/** Ports this process reserved. */
const handedOut = new Set<number>();

/**
 * A port free right now for a server a local cell starts (nats, redis, a gateway, an
 * exporter), reserved against every other process that chooses ports this way.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const port = SERVICE_LOW + Math.floor(Math.random() * (SERVICE_HIGH - SERVICE_LOW));
    if (handedOut.has(port) || !reservePort(port)) continue;
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port between ${SERVICE_LOW} and ${SERVICE_HIGH}`);
}

/**
 * A random block of ports that are free right now, for a borglet to hand to its tasks,
 * reserved as a whole, so concurrent local cells never offer their tasks the same ports.
 */
export async function freePortRange(size: number, avoid: ReadonlyArray<readonly [number, number]> = []): Promise<[number, number]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const low = RANGE_LOW + Math.floor(Math.random() * (RANGE_HIGH - RANGE_LOW - size));
    const high = low + size - 1;
    if (avoid.some(([a, b]) => low <= b && a <= high)) continue;
    const reserved: number[] = [];
    let allFree = true;
    for (let port = low; port <= high && allFree; port++) {
      allFree = !handedOut.has(port) && reservePort(port);
      if (allFree) reserved.push(port);
      allFree &&= await canBind(port);
    }
    if (allFree) return [low, high];
    for (const port of reserved) release(port);
  }
  throw new Error(`no free block of ${size} ports between ${RANGE_LOW} and ${RANGE_HIGH}`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Takes the reservation of `port` for this process; false if any process (this one too) holds it. */
export function reservePort(port: number): boolean {
  mkdirSync(RESERVATIONS, { recursive: true });
  const file = reservationFile(port);
  if (!createExclusive(file)) {
    if (!lapsed(file)) return false;
    // Two processes may find the same lapsed reservation: only one can move it away.
    const moved = `${file}.${process.pid}`;
    try {
      renameSync(file, moved);
    } catch {
      return false;
    }
    if (!lapsed(moved)) {
      // It was taken again between the look and the move: give it back unless yet another took it.
      try {
        linkSync(moved, file);
      } catch {
        /* someone holds it now; it is theirs either way */
      }
      unlinkSync(moved);
      return false;
    }
    unlinkSync(moved);
    if (!createExclusive(file)) return false;
  }
  handedOut.add(port);
  return true;
}

function release(port: number): void {
  handedOut.delete(port);
  try {
    unlinkSync(reservationFile(port));
  } catch {
    /* already gone */
  }
}

function createExclusive(file: string): boolean {
  try {
    const fd = openSync(file, "wx");
    writeSync(fd, OWNER);
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/** Where the reservation of `port` is kept (for tests and for people asking who holds a port). */
export function reservationFile(port: number): string {
  return join(RESERVATIONS, String(port));
}

/** A reservation lapses once its owner is gone and its minute of grace is over. */
function lapsed(file: string): boolean {
  try {
    if (Date.now() - statSync(file).mtimeMs < RESERVATION_GRACE_MS) return false;
    const [pid = 0, startTime = 0] = readFileSync(file, "utf8").split(" ").map(Number);
    return !(pid > 0 && isSameProcessAlive({ pid, startTime }));
  } catch {
    // Gone between the look and the read: whoever removed it may be taking it.
    return false;
  }
}
