import {
  heartbeat,
  readLogs,
  subjects,
  taskEventBatch,
  leaseBatch,
  type Envelope,
  type HeartbeatTask,
  type Lease,
  type LeaseBatch,
  type Resources,
  type TaskEvent,
} from "@corral/contracts";
import { publishEvent, serveRpc, subscribeEvents, type Logger, type NatsConnection, type Subscription } from "@corral/kit";
import { resolveBinary } from "./binaries.js";
import { HostTask, taskPaths, type TaskExit } from "./host-task.js";
import { readTail } from "./log-reader.js";

export interface BorgletOptions {
  cell: string;
  name: string;
  dataDir: string;
  capacity: Resources;
  attributes: Record<string, string>;
  portRange: [number, number];
  binaryPath: string[];
  heartbeatMs: number;
  /** the address tasks are reached at */
  host: string;
}

/**
 * One machine's agent: obeys lease batches from the leader (never from a lower epoch than
 * it has seen), runs tasks, reports their changes in batches, and heartbeats what it runs.
 */
export class Borglet {
  private readonly tasks = new Map<string, HostTask>();
  private readonly outbox: TaskEvent[] = [];
  private flushScheduled = false;
  private epochSeen = 0;
  private seq = 0;
  private readonly startedAt = Date.now();
  private subscriptions: Subscription[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: BorgletOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    const { cell, name } = this.options;
    this.subscriptions = [
      subscribeEvents(this.nc, subjects.nodeCommands(cell, name), leaseBatch, cell, this.log, (envelope) => this.obey(envelope)),
      serveRpc(this.nc, subjects.nodeLogs(cell, name), readLogs, cell, this.log, async ({ taskId, stream, tailBytes }) => {
        const paths = taskPaths(this.options.dataDir, taskId);
        return readTail(stream === "stdout" ? paths.stdout : paths.stderr, tailBytes);
      }),
    ];
    this.sendHeartbeat();
    this.heartbeatTimer = setInterval(() => this.sendHeartbeat(), this.options.heartbeatMs);
  }

  stop(): void {
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.flush();
  }

  private obey(envelope: Envelope<LeaseBatch>): void {
    const epoch = envelope.epoch;
    if (epoch === undefined || epoch < this.epochSeen) {
      this.log.warn({ epoch, epochSeen: this.epochSeen }, "refused commands from a stale or unfenced master");
      return;
    }
    if (envelope.body.node !== this.options.name) {
      this.log.warn({ node: envelope.body.node }, "refused commands addressed to another machine");
      return;
    }
    this.epochSeen = epoch;
    for (const revocation of envelope.body.revokes) {
      const task = this.tasks.get(revocation.taskId);
      if (task === undefined || task.lease.incarnation > revocation.incarnation) continue;
      this.log.info({ task: revocation.taskId, reason: revocation.reason }, "stopping task");
      task.stop(revocation.gracePeriodMs, true);
    }
    for (const lease of envelope.body.grants) this.run(lease);
  }

  private run(lease: Lease): void {
    const existing = this.tasks.get(lease.taskId);
    if (existing !== undefined) {
      if (existing.lease.incarnation >= lease.incarnation) return; // a resent lease: already running
      existing.stop(existing.lease.gracePeriodMs, true);
    }
    const log = this.log.child({ job: lease.taskId.split(".").slice(1).join("."), task: lease.taskId });
    const binary = resolveBinary(lease.binary, this.options.binaryPath);
    if (binary.path === undefined) {
      const message = `binary '${lease.binary}' not found (looked in ${binary.searched.slice(0, 6).join(", ")}${binary.searched.length > 6 ? ", …" : ""})`;
      log.warn(message);
      this.emit({ kind: "failed", taskId: lease.taskId, incarnation: lease.incarnation, message, at: Date.now() });
      return;
    }
    let task: HostTask;
    try {
      task = new HostTask(lease, this.options.host, binary.path, taskPaths(this.options.dataDir, lease.taskId), (exit) => this.exited(task, exit));
    } catch (error) {
      const message = (error as Error).message;
      log.warn({ err: message }, "task failed to start");
      this.emit({ kind: "failed", taskId: lease.taskId, incarnation: lease.incarnation, message, at: Date.now() });
      return;
    }
    this.tasks.set(lease.taskId, task);
    log.info({ pid: task.pid, ports: lease.ports }, "task started");
    this.emit({ kind: "started", taskId: lease.taskId, incarnation: lease.incarnation, pid: task.pid, at: Date.now() });
  }

  private exited(task: HostTask, exit: TaskExit): void {
    const { taskId, incarnation } = task.lease;
    if (this.tasks.get(taskId) === task) this.tasks.delete(taskId);
    this.log.info({ task: taskId, ...exit }, "task exited");
    const event: TaskEvent = { kind: "exited", taskId, incarnation, revoked: exit.revoked, at: Date.now() };
    if (exit.exitCode !== undefined) event.exitCode = exit.exitCode;
    if (exit.signal !== undefined) event.signal = exit.signal;
    this.emit(event);
  }

  /** Events go out in one batch per tick, not one message each. */
  private emit(event: TaskEvent): void {
    this.outbox.push(event);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outbox.length === 0) return;
    const events = this.outbox.splice(0, this.outbox.length);
    const { cell, name } = this.options;
    publishEvent(this.nc, subjects.nodeEvents(cell, name), taskEventBatch, cell, { node: name, events });
  }

  private sendHeartbeat(): void {
    const { cell, name } = this.options;
    const tasks: HeartbeatTask[] = [...this.tasks.values()].map((task) => ({
      taskId: task.lease.taskId,
      incarnation: task.lease.incarnation,
      state: task.terminating ? "terminating" : "running",
      pid: task.pid,
      ports: task.lease.ports,
    }));
    publishEvent(this.nc, subjects.nodeHeartbeat(cell, name), heartbeat, cell, {
      node: name,
      host: this.options.host,
      pid: process.pid,
      capacity: this.options.capacity,
      attributes: this.options.attributes,
      portRange: this.options.portRange,
      startedAt: this.startedAt,
      seq: this.seq++,
      epochSeen: this.epochSeen,
      tasks,
    });
  }
}

