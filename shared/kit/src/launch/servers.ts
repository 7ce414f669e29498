import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireExecutable } from "./executables.js";
import { startDetached, tcpAnswers, waitUntil, type StartedProcess } from "./processes.js";

export interface ServerOptions {
  /** data and log directory, created if missing */
  dir: string;
  port: number;
}

/** nats-server with JetStream, its store under `dir/jetstream`. */
export async function startNatsServer(options: ServerOptions): Promise<StartedProcess> {
  const binary = requireExecutable("nats-server");
  mkdirSync(join(options.dir, "jetstream"), { recursive: true });
  // A large cell's work snapshot and machine list exceed the 1 MB default payload.
  const config = join(options.dir, "nats-server.conf");
  writeFileSync(config, "max_payload: 8MB\n");
  const started = startDetached(
    "nats",
    "nats-server",
    binary,
    ["-c", config, "-a", "127.0.0.1", "-p", String(options.port), "-js", "-sd", join(options.dir, "jetstream"), "-n", `corral-${options.port}`],
    { log: join(options.dir, "nats-server.log") },
  );
  await waitUntil(`nats-server on port ${options.port}`, () => tcpAnswers(options.port, { send: "PING\r\n", expect: "INFO" }), 15_000);
  return started;
}

export type RedisDurability = "everysec" | "always" | "none";

/** redis-server with an append-only file (design.md § State: nothing acknowledged is lost). */
export async function startRedisServer(options: ServerOptions & { durability?: RedisDurability }): Promise<StartedProcess> {
  const binary = requireExecutable("redis-server");
  mkdirSync(options.dir, { recursive: true });
  const durability = options.durability ?? "everysec";
  const aof = durability === "none" ? ["--appendonly", "no"] : ["--appendonly", "yes", "--appendfsync", durability];
  const started = startDetached(
    "redis",
    "redis-server",
    binary,
    [
      "--port", String(options.port),
      "--bind", "127.0.0.1",
      "--dir", options.dir,
      "--save", "",
      ...aof,
      "--daemonize", "no",
      "--protected-mode", "no",
      "--logfile", join(options.dir, "redis-server.log"),
    ],
    { log: join(options.dir, "redis-server.out") },
  );
  // PONG only once the AOF is loaded; during loading Redis answers -LOADING.
  await waitUntil(`redis-server on port ${options.port}`, () => tcpAnswers(options.port, { send: "PING\r\n", expect: "+PONG" }), 15_000);
  return started;
}
