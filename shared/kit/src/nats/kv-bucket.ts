import { Kvm, type KV, type KvOptions, type KvWatchEntry } from "@nats-io/kv";
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

/** What a watch of a KV bucket yields, as `kv.watch()` gives it. */
export type KvWatch = Awaited<ReturnType<KV["watch"]>>;

/**
 * Follows a bucket for as long as the process runs. A watch that fails (its consumer lost by
 * the server, a request a busy machine let time out) or ends is logged and opened again after
 * `retryMs`, so one hiccup neither ends the process (an unhandled rejection) nor leaves it
 * following nothing. `open` makes the watch and, when it starts from now on rather than
 * replaying, reads what is there: called again on every reopening. With `first`, that watch
 * (opened by a caller that had to read before going on) is followed before any is opened
 * here. Returns how to stop.
 */
export function followKv(open: () => Promise<KvWatch>, apply: (entry: KvWatchEntry) => void, log: Logger, what: string, options: { first?: KvWatch; retryMs?: number } = {}): () => void {
  let stopped = false;
  let current: KvWatch | undefined;
  let first = options.first;
  void (async () => {
    while (!stopped) {
      try {
        current = first ?? (await open());
        first = undefined;
        if (stopped) current.stop();
        for await (const entry of current) apply(entry);
        if (!stopped) log.warn({ watch: what }, "a watch ended; watching again");
      } catch (error) {
        if (!stopped) log.error({ watch: what, err: (error as Error).message }, "a watch failed; watching again");
      }
      if (!stopped) await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 1000));
    }
  })();
  return () => {
    stopped = true;
    current?.stop();
  };
}
