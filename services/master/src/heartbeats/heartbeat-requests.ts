// Asking a borglet for its full task list when its digest disagrees. A class of its own because
// link shards and the leader both ask, each at most once per machine per heartbeat period.
import { heartbeatWanted, subjects, type Heartbeat } from "@corral/contracts";
import { publishEvent, type NatsConnection } from "@corral/kit";

/**
 * Asks a borglet to list its tasks whole in its next heartbeat, when the digest it sent
 * does not match what the state places there (a missed start or revocation, a machine back
 * from down): at most once per heartbeat period per machine, since the answer takes one.
 */
export class FullHeartbeatRequests {
  private readonly askedAt = new Map<string, number>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly cell: string,
  ) {}

  ask(hb: Heartbeat, now = Date.now()): void {
    this.askNode(hb.node, hb.heartbeatMs ?? 1000, now);
  }

  /** Asks `node` for a full heartbeat, at most once per its heartbeat period. */
  askNode(node: string, periodMs = 1000, now = Date.now()): void {
    const last = this.askedAt.get(node);
    if (last !== undefined && now - last < periodMs) return;
    this.askedAt.set(node, now);
    publishEvent(this.nc, subjects.nodeHeartbeatWanted(this.cell, node), heartbeatWanted, this.cell, { node });
  }
}
