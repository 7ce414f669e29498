import { join } from "node:path";
import { freePort, signalGroup, startNatsServer, startRedisServer, waitUntil, isSameProcessAlive, type RedisDurability, type StartedProcess } from "@corral/kit";
import { testDir } from "./test-cell.js";

export interface TestServer {
  url: string;
  port: number;
  process: StartedProcess;
  stop(): Promise<void>;
}

async function stopped(process: StartedProcess): Promise<void> {
  signalGroup(process, "SIGTERM");
  await waitUntil("server to exit", () => !isSameProcessAlive(process), 5000).catch(() => signalGroup(process, "SIGKILL"));
}

/** A redis-server of the test's own, on a free port, with AOF in a fresh directory. */
export async function startTestRedis(label: string, options: { durability?: RedisDurability; replicaOf?: number } = {}): Promise<TestServer> {
  const port = await freePort();
  const process = await startRedisServer({ dir: join(testDir(label), "redis"), port, ...options });
  return { url: `redis://127.0.0.1:${port}`, port, process, stop: () => stopped(process) };
}

/** A nats-server (JetStream on) of the test's own, on a free port. */
export async function startTestNats(label: string): Promise<TestServer> {
  const port = await freePort();
  const process = await startNatsServer({ dir: join(testDir(label), "nats"), port });
  return { url: `nats://127.0.0.1:${port}`, port, process, stop: () => stopped(process) };
}
