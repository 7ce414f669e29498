// What a term hands each leader handler: one argument, valid for one epoch.
import type { MachineDigests } from "@corral/contracts";
import type { FullHeartbeatRequests } from "../heartbeats/heartbeat-requests.js";
import type { QuotaTable } from "@corral/scheduling";
import type { FencedStore, Logger, NatsConnection } from "@corral/kit";
import type { CellState } from "../state/cell-state.js";
import type { CommandBatch } from "./commands.js";
import type { CommitQueue } from "./commit-queue.js";
import type { Reclamation } from "../scheduling/reclamation.js";

/** What every leader handler works with, for one term (one epoch). */
export interface UserLimits {
  jobs: number;
  pendingTasks: number;
}

export interface LeaderContext {
  cell: string;
  epoch: number;
  name: string;
  nc: NatsConnection;
  store: FencedStore;
  state: CellState;
  commits: CommitQueue;
  log: Logger;
  downAfterMs: number;
  /** the cell's packing policy, sent to schedulers with their work */
  policy: "e-pvm" | "best-fit" | "hybrid";
  /** pending tasks not to preempt for until then: their victims are stopping, or no victims would help (soft state) */
  nominations: Map<string, number>;
  /** when this term began */
  termStartedAt: number;
  /** when the leader last looked for preemptions (they are rate-limited) */
  lastPreemptionAt: number;
  /** copies JetStream keeps of the streams and buckets the leader creates (--js-replicas) */
  jsReplicas: number;
  /** per user per band; undefined: no quota configured, every user unlimited */
  quota: QuotaTable | undefined;
  /** at most this many jobs, and pending tasks, per user: one user cannot fill the leader's memory */
  userLimits: UserLimits;
  /** writes the cell's names (BNS) for jobs that changed */
  names: { markDirty(jobId: string): void; stop(): void };
  /** reservations decaying toward usage, and what that frees for non-production work */
  reclamation: Reclamation;
  /** each machine's digest, hashed again only when its shape changed */
  digests: MachineDigests;
  /** asks borglets whose task digest did not match for their full list */
  fullHeartbeats: FullHeartbeatRequests;
  /** heartbeats this term, by how they arrived */
  heartbeats: { direct: number; forwarded: number; aliveReported: number };
  /** commits the current state changes, then sends what the batch carries */
  commitAndSend(batch: CommandBatch): Promise<void>;
}
