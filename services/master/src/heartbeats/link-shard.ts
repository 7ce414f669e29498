// A standby's share of the heartbeats (Borg's link shards), judged against the followed state so
// that the leader hears only what differs.
import { heartbeat, linkAlive, linkHeartbeats, MachineDigests, nodeFromSubject, subjects, type Heartbeat } from "@corral/contracts";
import { callRpc, publishEvent, subscribeEvents, type Logger, type NatsConnection, type Subscription } from "@corral/kit";
import type { CellState } from "../state/cell-state.js";
import { heartbeatChangesNothing } from "./heartbeat-match.js";
import { FullHeartbeatRequests } from "./heartbeat-requests.js";

/** Every master replica joins this queue group, so each takes a share of the heartbeats. */
export const LINK_SHARDS_QUEUE = "link-shards";

/** How often a shard reports to the leader: liveness is judged in seconds, so a fifth of one is plenty. */
const FLUSH_MS = 200;
const FORWARD_CHUNK = 1000;

/**
 * A standby's link shard (Borg §3.3): takes its share of the borglets' heartbeats, compares
 * each with its copy of the committed state, and sends the leader only what differs in
 * full; the rest goes as one short "alive, unchanged" list per flush, so the leader's load
 * does not grow with the heartbeat rate.
 */
export class LinkShard {
  private unchanged = new Map<string, Heartbeat>();
  private changed = new Map<string, Heartbeat>();
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  private readonly digests = new MachineDigests();
  private readonly fullHeartbeats: FullHeartbeatRequests;

  constructor(
    private readonly nc: NatsConnection,
    private readonly cell: string,
    private readonly name: string,
    private readonly committedState: () => CellState,
    private readonly log: Logger,
  ) {
    this.fullHeartbeats = new FullHeartbeatRequests(nc, cell);
  }

  start(): void {
    this.subscription = subscribeEvents(
      this.nc,
      subjects.nodeHeartbeatAny(this.cell),
      heartbeat,
      this.cell,
      this.log,
      ({ body: hb }, msg) => {
        if (nodeFromSubject(msg.subject) !== hb.node) {
          this.log.warn({ subject: msg.subject, node: hb.node }, "refused heartbeat: node differs from its subject");
          return;
        }
        if (heartbeatChangesNothing(this.committedState(), hb)) {
          this.unchanged.set(hb.node, hb);
        } else if (hb.tasks === undefined) {
          // Alive, but only its full list can say what differs: the leader hears of it once that comes.
          this.unchanged.set(hb.node, hb);
          this.fullHeartbeats.ask(hb);
        } else {
          this.unchanged.delete(hb.node);
          this.changed.set(hb.node, hb);
        }
      },
      { queue: LINK_SHARDS_QUEUE },
    );
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
  }

  stop(): void {
    this.subscription?.unsubscribe();
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    const changed = this.changed;
    const unchanged = this.unchanged;
    this.changed = new Map();
    this.unchanged = new Map();
    try {
      if (changed.size > 0) this.forward([...changed.values()]);
      if (unchanged.size === 0) return;
      const nodes = [...unchanged.values()].map((hb) => ({ node: hb.node, digest: this.digests.of(hb) }));
      const { wanted } = await callRpc(this.nc, subjects.linkAlive(this.cell), linkAlive, this.cell, { shard: this.name, nodes }, { timeoutMs: 1000 });
      // The leader does not know these machines as they are (new to it, down, or changed shape): send them whole.
      const whole = wanted.map((node) => unchanged.get(node)).filter((hb) => hb !== undefined);
      if (whole.length > 0) this.forward(whole);
    } catch (error) {
      // No leader right now: heartbeats come again every second, and a new leader gives every machine a grace period.
      this.log.debug({ err: (error as Error).message }, "could not report heartbeats to the leader");
    } finally {
      this.flushing = false;
    }
  }

  private forward(heartbeats: Heartbeat[]): void {
    // In pieces, so that a shard that has to send every machine at once stays under NATS's payload limit.
    for (let i = 0; i < heartbeats.length; i += FORWARD_CHUNK) {
      publishEvent(this.nc, subjects.linkHeartbeats(this.cell), linkHeartbeats, this.cell, { shard: this.name, heartbeats: heartbeats.slice(i, i + FORWARD_CHUNK) });
    }
  }
}
