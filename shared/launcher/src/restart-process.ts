import { setTimeout as sleep } from "node:timers/promises";
import { canBind } from "./ports.js";
import { startDetached, tcpAnswers, waitUntil, type StartedProcess } from "./processes.js";
import { redisProbeFor } from "./servers.js";
import { isSameProcessAlive } from "@corral/kit";

/**
 * Starts a stopped process of a cell again, exactly as it was started (same ports, same
 * data directory); servers are waited for until they answer. `onSpawned` hears of each
 * process as soon as it exists (so the cell file can name it before it is ready).
 */
export async function restartProcess(stopped: StartedProcess, onSpawned?: (started: StartedProcess) => void): Promise<StartedProcess> {
  if (isSameProcessAlive(stopped)) throw new Error(`${stopped.name} is still running (pid ${stopped.pid})`);
  // The recorded command already enters the process's host, if it has one.
  const options: { log: string; cwd?: string } = { log: stopped.log };
  if (stopped.cwd !== undefined) options.cwd = stopped.cwd;
  const spawned = () => {
    const started = startDetached(stopped.role, stopped.name, stopped.command, stopped.args, options);
    if (stopped.host !== undefined) started.host = stopped.host;
    if (stopped.address !== undefined) started.address = stopped.address;
    onSpawned?.(started);
    return started;
  };
  if (stopped.role !== "nats" && stopped.role !== "redis") return spawned();
  const { port, probe, tlsCa } = stopped.role === "nats" ? { port: Number(stopped.args[stopped.args.indexOf("-p") + 1]), probe: { send: "PING\r\n", expect: "INFO" }, tlsCa: undefined } : redisProbeFor(stopped.args);
  // A server killed a moment ago may not have let its port go yet (a CI run once saw a
  // restarted redis-server refused with "Address already in use"): wait for the port, and
  // start again should the server still exit at once.
  // (Only known for loopback: a host's ports are in its own network namespace.)
  if (stopped.host === undefined) await waitUntil(`port ${port} to be free for ${stopped.name}`, () => canBind(port), 10_000).catch(() => {});
  for (let attempt = 1; ; attempt++) {
    const started = spawned();
    let exited = false;
    await waitUntil(`${stopped.name} on ${port} (log: ${stopped.log})`, async () => {
      exited = !isSameProcessAlive(started);
      return exited || tcpAnswers(port, probe, stopped.address, tlsCa);
    }, 15_000);
    if (!exited) return started;
    if (attempt === 3) throw new Error(`${stopped.name} exited on restart ${attempt} times; see ${stopped.log} and its own log in its data directory`);
    await sleep(500);
  }
}
