// How many copies JetStream keeps of each stream, KV bucket and object store Corral creates:
// 1 on a one-server cell, 3 on a 3-server NATS cluster, so that the cell's durable queues and
// buckets outlive one server. Decided once per cell by its operator, passed to every service
// that creates any of them as --js-replicas.
import { z } from "zod";
import type { Logger } from "../logger.js";
import { flag } from "../service/flags.js";

export const jsReplicasFlag = flag(
  "copies JetStream keeps of each stream, KV bucket and object store this creates: 1 on one NATS server, 3 on a 3-server cluster",
  z.coerce.number({ error: "a whole number of copies: 1, 3 or 5" }).int("a whole number of copies: 1, 3 or 5").min(1, "at least 1").max(5, "at most 5 (JetStream's limit)"),
  { default: "1" },
);

/**
 * Says so when something that already existed keeps fewer copies than asked: JetStream does
 * not add copies to an existing stream by itself, and a cell that believes it survives a
 * server's loss must hear that this one does not (`nats stream edit --replicas` fixes it).
 */
export function reportFewerReplicas(log: Logger | undefined, what: string, has: number, wanted: number): void {
  if (has >= wanted) return;
  log?.warn({ jetstream: what, replicas: has, wanted }, `${what} keeps ${has} cop${has === 1 ? "y" : "ies"}, fewer than --js-replicas ${wanted}: it is lost with its server; raise it with: nats stream edit ${what} --replicas ${wanted}`);
}
