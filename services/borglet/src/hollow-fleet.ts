import {
  heartbeat,
  heartbeatWanted,
  leaseBatch,
  nodeFromSubject,
  subjects,
  taskEventBatch,
  type Envelope,
  type HeartbeatTask,
  type LeaseBatch,
  type TaskEvent,
} from "@corral/contracts";
import { publishEvent, subscribeEvents, type Logger, type NatsConnection, type Subscription } from "@corral/kit";
import type { HollowMachineSpec } from "./hollow-machines.js";
import { TaskListReporter } from "./task-list-reporter.js";

/** Set in a job's env, a hollow task "runs" this long and then exits 0 (batch work). */
export const HOLLOW_RUN_MS_ENV = "HOLLOW_RUN_MS";

interface HollowTask {
  incarnation: number;
  ports: number[];
  pid: number;
  finishTimer?: NodeJS.Timeout;
}

interface HollowMachine {
  spec: HollowMachineSpec;
  tasks: Map<string, HollowTask>;
  epochSeen: number;
  seq: number;
  taskList: TaskListReporter;
}

export interface HollowFleetOptions {
  cell: string;
  host: string;
  portRange: [number, number];
  heartbeatMs: number;
}

/**
 * Many simulated machines in one process (Kubernetes' kubemark): each registers, heartbeats
 * and obeys leases like a real borglet, but starts no process. One subscription serves all
 * machines' command subjects, and heartbeats are spread evenly over the interval.
 */
export class HollowFleet {
  private readonly machines = new Map<string, HollowMachine>();
  private readonly outbox = new Map<HollowMachine, TaskEvent[]>();
  private flushScheduled = false;
  private nextPid = 1000;
  private subscriptions: Subscription[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();

  constructor(
    private readonly nc: NatsConnection,
    specs: readonly HollowMachineSpec[],
    private readonly options: HollowFleetOptions,
    private readonly log: Logger,
  ) {
    for (const spec of specs) this.machines.set(spec.name, { spec, tasks: new Map(), epochSeen: 0, seq: 0, taskList: new TaskListReporter() });
  }

  get size(): number {
    return this.machines.size;
  }

  start(): void {
    const { cell } = this.options;
    this.subscriptions = [
      subscribeEvents(this.nc, subjects.nodeCommands(cell, "*"), leaseBatch, cell, this.log, (envelope, msg) => {
        const machine = this.machines.get(nodeFromSubject(msg.subject) ?? "");
        if (machine !== undefined) this.obey(machine, envelope);
      }),
      subscribeEvents(this.nc, subjects.nodeHeartbeatWanted(cell, "*"), heartbeatWanted, cell, this.log, (_envelope, msg) => {
        this.machines.get(nodeFromSubject(msg.subject) ?? "")?.taskList.wantFull();
      }),
    ];
    // Spread heartbeats: every tick sends for the slice of machines that is due.
    const tickMs = Math.max(10, Math.min(100, this.options.heartbeatMs / 10));
    const all = [...this.machines.values()];
    const perTick = Math.max(1, Math.ceil((all.length * tickMs) / this.options.heartbeatMs));
    let cursor = 0;
    for (const machine of all) this.sendHeartbeat(machine);
    this.heartbeatTimer = setInterval(() => {
      for (let i = 0; i < perTick && all.length > 0; i++) {
        this.sendHeartbeat(all[cursor]!);
        cursor = (cursor + 1) % all.length;
      }
    }, tickMs);
  }

  stop(): void {
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    for (const machine of this.machines.values()) for (const task of machine.tasks.values()) clearTimeout(task.finishTimer);
    this.flush();
  }

  private obey(machine: HollowMachine, envelope: Envelope<LeaseBatch>): void {
    if (envelope.epoch === undefined || envelope.epoch < machine.epochSeen || envelope.body.node !== machine.spec.name) return;
    machine.epochSeen = envelope.epoch;
    const now = Date.now();
    for (const revocation of envelope.body.revokes) {
      const task = machine.tasks.get(revocation.taskId);
      if (task === undefined || task.incarnation > revocation.incarnation) continue;
      this.finish(machine, revocation.taskId, task, { kind: "exited", taskId: revocation.taskId, incarnation: task.incarnation, revoked: true, signal: "SIGTERM", at: now });
    }
    for (const lease of envelope.body.grants) {
      const existing = machine.tasks.get(lease.taskId);
      if (existing !== undefined && existing.incarnation >= lease.incarnation) continue;
      if (existing !== undefined) clearTimeout(existing.finishTimer);
      const task: HollowTask = { incarnation: lease.incarnation, ports: lease.ports, pid: this.nextPid++ };
      machine.tasks.set(lease.taskId, task);
      const runMs = Number(lease.env[HOLLOW_RUN_MS_ENV]);
      if (Number.isFinite(runMs) && runMs >= 0) {
        task.finishTimer = setTimeout(() => {
          this.finish(machine, lease.taskId, task, { kind: "exited", taskId: lease.taskId, incarnation: task.incarnation, revoked: false, exitCode: 0, at: Date.now() });
        }, runMs);
      }
      this.emit(machine, { kind: "started", taskId: lease.taskId, incarnation: lease.incarnation, pid: task.pid, at: now });
    }
  }

  private finish(machine: HollowMachine, taskId: string, task: HollowTask, event: TaskEvent): void {
    if (machine.tasks.get(taskId) !== task) return;
    clearTimeout(task.finishTimer);
    machine.tasks.delete(taskId);
    this.emit(machine, event);
  }

  /** One events message per machine per tick, as a real borglet sends. */
  private emit(machine: HollowMachine, event: TaskEvent): void {
    const queued = this.outbox.get(machine);
    if (queued === undefined) this.outbox.set(machine, [event]);
    else queued.push(event);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const { cell } = this.options;
    for (const [machine, events] of this.outbox) {
      publishEvent(this.nc, subjects.nodeEvents(cell, machine.spec.name), taskEventBatch, cell, { node: machine.spec.name, events });
    }
    this.outbox.clear();
  }

  private sendHeartbeat(machine: HollowMachine): void {
    const { cell } = this.options;
    const tasks: HeartbeatTask[] = [];
    for (const [taskId, task] of machine.tasks) tasks.push({ taskId, incarnation: task.incarnation, state: "running", pid: task.pid, ports: task.ports });
    publishEvent(this.nc, subjects.nodeHeartbeat(cell, machine.spec.name), heartbeat, cell, {
      node: machine.spec.name,
      host: this.options.host,
      pid: process.pid,
      capacity: machine.spec.capacity,
      attributes: machine.spec.attributes,
      portRange: this.options.portRange,
      startedAt: this.startedAt,
      seq: machine.seq++,
      epochSeen: machine.epochSeen,
      ...machine.taskList.next(tasks, false),
      heartbeatMs: this.options.heartbeatMs,
    });
  }
}
