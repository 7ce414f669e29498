import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { leaderServing, subjects } from "@corral/contracts";
import type { Logger } from "../logger.js";
import { subscribeEvents } from "./messaging.js";

/** Something that tells its listeners when a request in flight should be sent again at once. */
export interface ResendSignal {
  /** calls `listener` once, at the next signal; the returned function forgets it */
  onNext(listener: () => void): () => void;
}

/**
 * A cell's leader announcements: each new term says when it serves the API. A request that
 * went to a leader as it died gets no answer; rather than wait out its attempt's timeout, a
 * caller sends it again as soon as the next leader serves (callRpc's `resendOn`).
 */
export class LeaderChanges implements ResendSignal {
  private readonly listeners = new Set<() => void>();
  private readonly subscription: Subscription;
  /** the latest term announced, 0 before any */
  epoch = 0;

  constructor(nc: NatsConnection, cell: string, log: Logger) {
    this.subscription = subscribeEvents(nc, subjects.leaderServing(cell), leaderServing, cell, log, ({ body }) => {
      if (body.epoch <= this.epoch) return; // a late copy of an older term's announcement
      this.epoch = body.epoch;
      const waiting = [...this.listeners];
      this.listeners.clear();
      for (const listener of waiting) listener();
    });
  }

  onNext(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.subscription.unsubscribe();
    this.listeners.clear();
  }
}
