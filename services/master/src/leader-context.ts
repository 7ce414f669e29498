import type { FencedStore, Logger, NatsConnection } from "@corral/kit";
import type { CellState } from "./cell-state.js";
import type { CommandBatch } from "./commands.js";
import type { CommitQueue } from "./commit-queue.js";

/** What every leader handler works with, for one term (one epoch). */
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
  /** commits the current state changes, then sends what the batch carries */
  commitAndSend(batch: CommandBatch): Promise<void>;
}
