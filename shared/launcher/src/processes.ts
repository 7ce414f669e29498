import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { connect as connectTls } from "node:tls";
import { setTimeout as sleep } from "node:timers/promises";
import { isSameProcessAlive, processStartTime, type ProcessIdentity } from "@corral/kit";
import { systemExecutable } from "./executables.js";

/** A process we started, recognisable later even if its pid is reused. */
export interface StartedProcess extends ProcessIdentity {
  role: string;
  name: string;
  log: string;
  /** how it was started, so a test or an operator can start it again the same way */
  command: string;
  args: string[];
  cwd?: string;
  /** in a multi-host cell: the host (network namespace) it runs on */
  host?: string;
  /** the address it listens on, when not loopback (a multi-host cell's host address) */
  address?: string;
}

/**
 * Where a process runs: this machine's loopback, or a host of a multi-host cell (a network
 * namespace, see host-network.ts) with its own address.
 */
export interface Placement {
  address: string;
  /** the host's name and network namespace; absent: the root namespace */
  host?: { name: string; netns: string };
}

export const LOOPBACK: Placement = { address: "127.0.0.1" };

/**
 * The command line that runs `command` in network namespace `netns`. nsenter switches only
 * the network namespace (`ip netns exec` would also remount /sys and hide the cgroup
 * hierarchy a borglet manages) and execs, so the pid stays the command's.
 */
export function inNetworkNamespace(netns: string, command: string, args: readonly string[]): { command: string; args: string[] } {
  return { command: systemExecutable("nsenter"), args: [`--net=/run/netns/${netns}`, "--", command, ...args] };
}

/**
 * Starts a process in its own process group, output appended to `log`, not tied to our
 * lifetime: `corral cell up` returns while the cell keeps running. A cell that must die
 * with its starter instead (tests, load runs) gets a watchdog: see starter-guard.ts.
 */
export function startDetached(
  role: string,
  name: string,
  command: string,
  args: readonly string[],
  options: { log: string; env?: NodeJS.ProcessEnv; cwd?: string; on?: Placement },
): StartedProcess {
  const host = options.on?.host;
  // Recorded wrapped, so a restart (restart-process.ts) lands on the same host.
  if (host !== undefined) ({ command, args } = inNetworkNamespace(host.netns, command, args));
  const fd = openSync(options.log, "a");
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    child.unref();
    const started: StartedProcess = { role, name, pid: child.pid, startTime: processStartTime(child.pid) ?? 0, log: options.log, command, args: [...args] };
    if (options.cwd !== undefined) started.cwd = options.cwd;
    if (host !== undefined) started.host = host.name;
    if (options.on !== undefined && options.on.address !== LOOPBACK.address) started.address = options.on.address;
    return started;
  } finally {
    closeSync(fd);
  }
}

/** Signals a process group we started, only if its leader is still the process we started. */
export function signalGroup(process_: Pick<StartedProcess, "pid" | "startTime">, signal: NodeJS.Signals): boolean {
  if (!isSameProcessAlive(process_)) return false;
  try {
    process.kill(-process_.pid, signal);
    return true;
  } catch {
    try {
      process.kill(process_.pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Whether something answers at host:port (with `probe`, answers it as expected); with `tlsCa`, over TLS, its certificate checked against that CA. */
export function tcpAnswers(port: number, probe?: { send: string; expect: string }, host = LOOPBACK.address, tlsCa?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsCa === undefined ? connect({ port, host }) : connectTls({ port, host, ca: readFileSync(tlsCa, "utf8") });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once(tlsCa === undefined ? "connect" : "secureConnect", () => {
      if (probe === undefined) return done(true);
      socket.write(probe.send);
      let received = "";
      // One reply line per line sent (an AUTH before a PING gets two).
      const replies = probe.send.split("\n").length - 1;
      socket.on("data", (chunk) => {
        received += chunk.toString();
        if (received.includes(probe.expect)) done(true);
        else if (received.split("\n").length - 1 >= replies) done(false);
      });
    });
  });
}
