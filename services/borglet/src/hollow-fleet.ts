import { heartbeatWanted, leaseBatch, nodeFromSubject, subjects } from "@corral/contracts";
import { subscribeEvents, type LeaderVerifier, type Logger, type NatsConnection, type Subscription } from "@corral/kit";
import { Borglet } from "./borglet.js";
import type { HollowMachineSpec } from "./hollow-machines.js";
import { SimulatedPids, SimulatedRuntime } from "./simulated-runtime.js";

export interface HollowFleetOptions {
  cell: string;
  host: string;
  portRange: [number, number];
  heartbeatMs: number;
  /** one for the fleet: a term is verified once, not once per machine */
  leader: LeaderVerifier;
}

/**
 * Many simulated machines in one process (Kubernetes' kubemark): each is a real Borglet
 * (the epoch fence, the command queue, the event outbox, heartbeats with task list digests)
 * over a simulated runtime that starts no process. What the fleet adds is only what one
 * process with thousands of machines needs: one subscription serves every machine's
 * command subjects, and heartbeats are spread evenly over the period instead of a timer each.
 */
export class HollowFleet {
  private readonly machines = new Map<string, Borglet>();
  private subscriptions: Subscription[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    specs: readonly HollowMachineSpec[],
    private readonly options: HollowFleetOptions,
    private readonly log: Logger,
  ) {
    const runtime = new SimulatedRuntime(new SimulatedPids());
    // A task's start and exit are routine here, thousands a second: only what goes wrong is logged.
    const machineLog = log.child({}, { level: "warn" });
    for (const spec of specs) {
      const borglet = new Borglet(nc, { cell: options.cell, name: spec.name, host: options.host, capacity: spec.capacity, attributes: spec.attributes, portRange: options.portRange, heartbeatMs: options.heartbeatMs, leader: options.leader }, runtime, machineLog);
      this.machines.set(spec.name, borglet);
    }
  }

  get size(): number {
    return this.machines.size;
  }

  start(): void {
    const { cell } = this.options;
    for (const machine of this.machines.values()) machine.open();
    this.subscriptions = [
      subscribeEvents(this.nc, subjects.nodeCommands(cell, "*"), leaseBatch, cell, this.log, (envelope, msg) => {
        this.machines.get(nodeFromSubject(msg.subject) ?? "")?.obey(envelope);
      }),
      subscribeEvents(this.nc, subjects.nodeHeartbeatWanted(cell, "*"), heartbeatWanted, cell, this.log, (_envelope, msg) => {
        this.machines.get(nodeFromSubject(msg.subject) ?? "")?.wantFullHeartbeat();
      }),
    ];
    // Spread heartbeats: every tick sends for the slice of machines that is due.
    const tickMs = Math.max(10, Math.min(100, this.options.heartbeatMs / 10));
    const all = [...this.machines.values()];
    const perTick = Math.max(1, Math.ceil((all.length * tickMs) / this.options.heartbeatMs));
    let cursor = 0;
    for (const machine of all) machine.heartbeat();
    this.heartbeatTimer = setInterval(() => {
      for (let i = 0; i < perTick && all.length > 0; i++) {
        all[cursor]!.heartbeat();
        cursor = (cursor + 1) % all.length;
      }
    }, tickMs);
  }

  stop(): void {
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    for (const machine of this.machines.values()) machine.stop();
  }
}
