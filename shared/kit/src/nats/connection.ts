import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../logger.js";

export type { NatsConnection, Subscription, Msg } from "@nats-io/transport-node";

/** Connects and keeps reconnecting forever: a NATS restart must never end a service. */
export async function connectNats(servers: string, name: string, log: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
  });
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect" || status.type === "reconnect") log.warn({ nats: status.type }, "nats connection changed");
    }
  })();
  return nc;
}
