import { Kvm, type KV, type KvOptions } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../logger.js";
import { reportFewerReplicas } from "./jetstream-replicas.js";

/**
 * A KV bucket, opened if it exists and created only if it does not. Creating asks the
 * JetStream meta group, which a super-cluster that lost its majority cannot answer, while
 * opening an existing bucket only needs the bucket's own cluster: so a cell whose bucket
 * exists keeps working through another cluster's outage.
 */
export async function openKvBucket(nc: NatsConnection, bucket: string, options: Partial<KvOptions> & { replicas: number }, log?: Logger): Promise<KV> {
  const kvm = new Kvm(nc);
  try {
    const kv = await kvm.open(bucket);
    // open() alone does not look: the bucket's stream info says whether it is there
    reportFewerReplicas(log, `KV_${bucket}`, (await kv.status()).replicas, options.replicas);
    return kv;
  } catch (error) {
    if (!/not found/i.test((error as Error).message)) throw error;
  }
  return kvm.create(bucket, options);
}
