import { connect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../logger.js";
import type { ConnectionMetrics } from "../metrics/connection-metrics.js";
import type { NatsCredentials } from "./credentials.js";

export type { NatsConnection, Subscription, Msg } from "@nats-io/transport-node";

/** How a client signs in and what it trusts. */
export interface NatsConnectOptions {
  /** counts disconnects and errors */
  metrics?: ConnectionMetrics | undefined;
  /** its NKey; a server that requires sign-in refuses anyone without */
  credentials?: NatsCredentials | undefined;
  /** the CA certificate file the servers' certificates must be signed by: given, the connection is TLS */
  tlsCa?: string | undefined;
}

/**
 * The client options that sign in with `credentials` (replies then come to the client's own
 * inbox prefix) and, with `tlsCa`, speak TLS to servers that CA signed: one mapping for every
 * connection to a cell, long-lived or a probe.
 */
export function signInOptions(options: Pick<NatsConnectOptions, "credentials" | "tlsCa">): Pick<ConnectionOptions, "authenticator" | "inboxPrefix" | "tls"> {
  const { credentials, tlsCa } = options;
  return {
    ...(credentials === undefined ? {} : { authenticator: credentials.authenticator, inboxPrefix: credentials.inboxPrefix }),
    ...(tlsCa === undefined ? {} : { tls: { caFile: tlsCa } }),
  };
}

/**
 * Connects and keeps reconnecting forever: a NATS restart must never end a service.
 * Disconnects and server errors are logged, and counted when `metrics` is given. With
 * `credentials`, signs in with them and takes replies on the client's own inbox prefix
 * (a server that requires sign-in refuses anyone without).
 */
export async function connectNats(servers: string | readonly string[], name: string, log: Logger, options: NatsConnectOptions = {}): Promise<NatsConnection> {
  const nc = await connect({
    ...signInOptions(options),
    // A cell on a NATS cluster is given as a comma-separated list: any server of it will do.
    servers: typeof servers === "string" ? servers.split(",").map((server) => server.trim()) : [...servers],
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // A server whose host is cut off (not stopped) never closes the connection: without pings
    // answered, move to another server of the cluster after about 15 s, not the default 4 min.
    // Long enough that a server stalled by a busy machine is not left for nothing.
    pingInterval: 5000,
    maxPingOut: 3,
    waitOnFirstConnect: true,
    // Otherwise every request builds an Error (a stack trace) up front in case it fails:
    // a measurable share of a busy service's cpu, for a stack callRpc replaces with its own error.
    noAsyncTraces: true,
  });
  const counters = options.metrics?.nats;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect" || status.type === "reconnect") log.warn({ nats: status.type }, "nats connection changed");
      if (status.type === "disconnect") counters?.disconnects.inc();
      if (status.type === "error") {
        counters?.errors.inc();
        log.warn({ err: status.error.message }, "nats server reported an error");
      }
    }
  })();
  return nc;
}
