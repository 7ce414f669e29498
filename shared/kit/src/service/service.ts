import { z } from "zod";
import { cellNameSchema, nodeNameSchema } from "@corral/contracts";
import { createLogger, type Logger } from "../logger.js";
import { ServiceMetrics } from "../metrics/service-metrics.js";
import { AuthorizationError } from "@nats-io/transport-node";
import { connectNats, type NatsConnection } from "../nats/connection.js";
import { readNatsCredentials } from "../nats/credentials.js";
import { fromFlag } from "../secret-file.js";
import { exitOnUncaught, onShutdown } from "../shutdown.js";
import { flag, loadFlags, type FlagDefinitions, type FlagValues } from "./flags.js";

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;

/** How a service names itself: the flag is shared, its meaning and default are the service's. */
export interface NameFlag {
  help: string;
  default: string;
  /** shown in --help instead of a computed default (a host name, a pid) */
  defaultShown?: string;
}

/** The flags every service takes, declared once. */
export const sharedFlags = (name: NameFlag) => ({
  cell: flag("the cell this service belongs to", cellNameSchema, { default: "local" }),
  name: flag(name.help, nodeNameSchema, { default: name.default, ...(name.defaultShown === undefined ? {} : { defaultShown: name.defaultShown }) }),
  nats: flag(
    "the NATS servers of the cell, comma-separated (any one is enough to join a cluster)",
    z
      .string()
      .transform((text) => text.split(",").map((server) => server.trim()).filter((server) => server !== ""))
      .refine((servers) => servers.length > 0, "at least one server, like nats://127.0.0.1:4222"),
    { default: "nats://127.0.0.1:4222" },
  ),
  natsCredentials: flag(
    "the file (mode 600) of the NKey seed this service signs in to NATS with; `corral cell up` makes one per service, `corral cell credentials` for other cells. Empty: no sign-in, which a cell's servers refuse",
    z.string(),
    { default: "" },
  ),
  tlsCa: flag(
    "the CA certificate (PEM) the cell's servers' certificates are checked against; given, connections to NATS (and the masters' to Redis) are TLS. Empty: plain",
    z.string(),
    { default: "" },
  ),
  metricsPort: flag("the port of this service's Prometheus /metrics; 0: no exporter", z.coerce.number().int("a whole port number").min(0).max(65535), { default: "0" }),
  metricsHost: flag("the address /metrics listens on: loopback unless a Prometheus elsewhere must reach it", z.string().min(1), { default: "127.0.0.1" }),
  logLevel: flag(`the least severe log lines written: ${LOG_LEVELS.join(", ")}`, z.enum(LOG_LEVELS, { message: `one of ${LOG_LEVELS.join(", ")}` }), { default: "info" }),
});

export type ServiceFlags<D extends FlagDefinitions> = FlagValues<ReturnType<typeof sharedFlags>> & FlagValues<D>;

export interface ServiceSetup<D extends FlagDefinitions> {
  /** the service's kind, as in logs and metrics: `master`, `borglet` … */
  readonly service: string;
  /** one sentence for --help */
  readonly summary: string;
  /** what --name means for this service, and its default */
  readonly name: NameFlag;
  /** the service's own flags, beside the shared ones */
  readonly flags: D;
  /** a check across flags, after each flag was checked alone: the problem, or undefined */
  readonly check?: (flags: ServiceFlags<D>) => string | undefined;
  /** fields every log line carries beside service and cell (the replica's name, the node) */
  readonly logFields?: (flags: ServiceFlags<D>) => Record<string, unknown>;
  /** how this process names itself to NATS */
  readonly connectionName: (flags: ServiceFlags<D>) => string;
}

export interface Service<F> {
  readonly flags: F;
  readonly log: Logger;
  readonly metrics: ServiceMetrics;
  readonly nc: NatsConnection;
  /**
   * Runs on SIGTERM or SIGINT, newest first, before the NATS connection drains and the
   * exporter closes; then the process exits.
   */
  onStop(stop: () => Promise<void> | void): void;
}

/**
 * What every service does before its own work: flags (with --help and environment
 * variables), logging, exits on what nothing caught, metrics, NATS, and an orderly stop.
 */
export async function startService<D extends FlagDefinitions>(setup: ServiceSetup<D>): Promise<Service<ServiceFlags<D>>> {
  const program = `corral-${setup.service}`;
  const flags = loadFlags({ program, summary: setup.summary, flags: { ...sharedFlags(setup.name), ...setup.flags } }) as ServiceFlags<D>;
  const problem = setup.check?.(flags);
  if (problem !== undefined) {
    process.stderr.write(`${program}: ${problem}\n`);
    process.exit(2);
  }
  const log = createLogger(setup.service, flags.cell, setup.logFields?.(flags) ?? {}, flags.logLevel);
  exitOnUncaught(log);
  const metrics = new ServiceMetrics(setup.service, flags.cell);
  // Before connecting, so that trouble connecting shows in the metrics.
  await metrics.serve(flags, log);
  const credentials = flags.natsCredentials === "" ? undefined : fromFlag(() => readNatsCredentials(flags.natsCredentials), program);
  const nc = await connectNats(flags.nats, setup.connectionName(flags), log, { metrics: metrics.connections, credentials, ...(flags.tlsCa === "" ? {} : { tlsCa: flags.tlsCa }) }).catch((error: unknown) => {
    // Refused credentials will not start working by retrying: say so and stop, as for a bad flag.
    if (error instanceof AuthorizationError || /authorization/i.test((error as Error).message)) {
      process.stderr.write(`${program}: NATS refused to let this service sign in (${(error as Error).message}): check --nats-credentials${flags.natsCredentials === "" ? " (none was given)" : ` (${flags.natsCredentials})`} and that the servers' config lists its public key\n`);
      process.exit(2);
    }
    throw error;
  });
  const stops: Array<() => Promise<void> | void> = [];
  onShutdown(log, async () => {
    for (const stop of stops.reverse()) await stop();
    await nc.drain().catch(() => {});
    await metrics.close();
  });
  return { flags, log, metrics, nc, onStop: (stop) => void stops.push(stop) };
}

