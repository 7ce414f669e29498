import { createServer } from "node:net";
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isSameProcessAlive, processStartTime } from "@corral/kit";

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
 * free to hand out. Each handed-out port is reserved by a file here (a directory per user,
 * so no user's files lock another out) naming its owner by pid and start time, so a reused
 * pid is not taken for it. A reservation stands while its owner lives, or for a minute after
 * it was made (the launcher of `corral cell up` exits at once; its servers bind their ports
 * within that minute, and a borglet shares the reservation of its task range).
 */
const RESERVATIONS = join(tmpdir(), `corral-ports-${process.getuid?.() ?? "user"}`);
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
    release(port); // something outside this scheme holds it
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

/** Whether a server could bind `port` on loopback right now. */
export function canBind(port: number): Promise<boolean> {
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
  if (!createExclusive(file, OWNER)) {
    if (!lapsed(file)) return false;
    // A lapsed reservation is taken over under a lock, so two processes finding it at once
    // cannot both take it: the loser finds the lock, or the winner's fresh reservation. A
    // lock left by a process that died mid-takeover keeps that one port out of use for good,
    // which costs less than any rule for breaking locks would risk.
    const lock = `${file}.takeover`;
    if (!createExclusive(lock, OWNER)) return false;
    try {
      if (!lapsed(file)) return false;
      unlinkSync(file);
      if (!createExclusive(file, OWNER)) return false;
    } finally {
      unlinkSync(lock);
    }
  }
  handedOut.add(port);
  return true;
}

/**
 * Shares this process's reservations of `ports` with the process that will bind them (a
 * borglet given a range for its tasks): they stand while either lives, not only while the
 * launcher does.
 */
export function shareReservations(ports: Iterable<number>, owner: { pid: number; startTime: number }): void {
  for (const port of ports) {
    if (handedOut.has(port)) writeFileSync(reservationFile(port), `${OWNER}\n${owner.pid} ${owner.startTime}`);
  }
}

function release(port: number): void {
  handedOut.delete(port);
  try {
    unlinkSync(reservationFile(port));
  } catch {
    /* already gone */
  }
}

function createExclusive(file: string, content: string): boolean {
  try {
    const fd = openSync(file, "wx");
    writeSync(fd, content);
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

/** A reservation lapses once its owners are gone and its minute of grace is over. */
function lapsed(file: string): boolean {
  try {
    if (Date.now() - statSync(file).mtimeMs < RESERVATION_GRACE_MS) return false;
    // One owner per line: "pid starttime".
    return !readFileSync(file, "utf8")
      .split("\n")
      .some((line) => {
        const [pid = 0, startTime = 0] = line.split(" ").map(Number);
        return pid > 0 && isSameProcessAlive({ pid, startTime });
      });
  } catch {
    // Gone between the look and the read: whoever removed it may be taking it.
    return false;
  }
}
