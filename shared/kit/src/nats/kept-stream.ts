import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType, type StreamConfig } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../logger.js";
import { reportFewerReplicas } from "./jetstream-replicas.js";

/**
 * A stream that keeps what is published to it within its limits (on file, the oldest going
 * first), made if missing; one that exists is left as it is, with a warning if it keeps
 * fewer copies than asked.
 */
export async function ensureKeptStream(nc: NatsConnection, config: Partial<StreamConfig> & { name: string; subjects: string[] }, replicas: number, log?: Logger): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    const info = await jsm.streams.info(config.name);
    reportFewerReplicas(log, config.name, info.config.num_replicas, replicas);
  } catch {
    await jsm.streams.add({ storage: StorageType.File, retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old, ...config, num_replicas: replicas });
  }
}
