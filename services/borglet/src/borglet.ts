import {
  heartbeat,
  heartbeatWanted,
  readLogs,
  subjects,
  leaseBatch,
  type Envelope,
  type HeartbeatTask,
  type Lease,
  type LeaseBatch,
  type Resources,
  type TaskEvent,
} from "@corral/contracts";
import { publishEvent, serveRpc, subscribeEvents, type LeaderVerifier, type Logger, type NatsConnection, type Subscription } from "@corral/kit";
import { TaskListReporter } from "./task-list-reporter.js";
import { SlicedQueue } from "./sliced-queue.js";
import type { TaskExit } from "./host-task.js";
import { tasksToEvict, type MeasuredTask } from "./memory-pressure.js";
import { HealthProber } from "./health-prober.js";
import { UsageMeter } from "./usage-meter.js";
import { FinishedRuns } from "./finished-runs.js";
import type { TaskStateCounts, TaskUsageObserver } from "./borglet-metrics.js";
import { TaskEventOutbox } from "./task-event-outbox.js";
import type { RunningTask, TaskRuntime } from "./task-runtime.js";

/** Memory pressure does not wait out a long grace period. */
const EVICTION_GRACE_MS = 2000;

type Command = { lease: Lease } | { revocation: LeaseBatch["revokes"][number] };

/** Grants and revocations carried out per turn of the event loop (see SlicedQueue). */
const COMMANDS_PER_SLICE = 32;

export interface BorgletOptions {
  cell: string;
  name: string;
  capacity: Resources;
  attributes: Record<string, string>;
  portRange: [number, number];
  heartbeatMs: number;
  /** the address tasks are reached at */
  host: string;
  /** checks the leader's signature of a term before its commands are obeyed */
  leader: LeaderVerifier;
}

/**
 * One machine's agent: obeys lease batches from the leader (never from a lower epoch than
 * it has seen), runs tasks through its runtime, reports their changes in batches, and
 * heartbeats what it runs. A real machine's borglet and every hollow machine of a fleet are
 * this class; only the runtime differs.
 */
export class Borglet {
  private readonly tasks = new Map<string, RunningTask>();
  private readonly commands = new SlicedQueue<Command>((command) => this.carryOut(command), COMMANDS_PER_SLICE);
  private readonly usage = new UsageMeter();
  private readonly probers = new Map<RunningTask, HealthProber>();
  /** tasks the borglet is evicting for memory pressure, with why */
  private readonly evicted = new Map<RunningTask, string>();
  /** tasks the borglet is stopping for failing their health check, with what the check said */
  private readonly unhealthy = new Map<RunningTask, string>();
  private readonly events: TaskEventOutbox;
  private readonly finishedRuns = new FinishedRuns();
  private epochSeen = 0;
  private seq = 0;
  private readonly startedAt = Date.now();
  private subscriptions: Subscription[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly taskList = new TaskListReporter();

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: BorgletOptions,
    private readonly runtime: TaskRuntime,
    private readonly log: Logger,
    /** told each task's measured usage and when a task ends (metrics) */
    private readonly usageObserver?: TaskUsageObserver,
  ) {
    this.events = new TaskEventOutbox(nc, options.cell, options.name);
  }

  /** Starts the agent on its own: its runtime, its subjects, and a heartbeat every period. */
  start(): void {
    const { cell, name } = this.options;
    this.open();
    const { readLog } = this.runtime;
    this.subscriptions = [
      subscribeEvents(this.nc, subjects.nodeCommands(cell, name), leaseBatch, cell, this.log, (envelope) => this.obey(envelope)),
      subscribeEvents(this.nc, subjects.nodeHeartbeatWanted(cell, name), heartbeatWanted, cell, this.log, () => this.wantFullHeartbeat()),
    ];
    if (readLog !== undefined) {
      this.subscriptions.push(serveRpc(this.nc, subjects.nodeLogs(cell, name), readLogs, cell, this.log, ({ taskId, stream, tailBytes, from }) => readLog(taskId, stream, tailBytes, from)));
    }
    this.heartbeat();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.options.heartbeatMs);
  }

  /**
   * Starts only the runtime, taking on the tasks a previous run left: for a fleet of many
   * machines in one process, which routes their commands and paces their heartbeats itself.
   */
  open(): void {
    for (const task of this.runtime.open(() => this.tasks, (task, exit) => this.exited(task, exit))) {
      this.tasks.set(task.lease.taskId, task);
      this.watchHealth(task, this.taskLog(task.lease));
    }
  }

  /** The leader asked for the whole task list in the next heartbeat. */
  wantFullHeartbeat(): void {
    this.taskList.wantFull();
  }

  /** Its tasks by the state its heartbeats report. */
  taskStates(): TaskStateCounts {
    const counts: TaskStateCounts = { starting: 0, running: 0, terminating: 0 };
    for (const task of this.tasks.values()) counts[reportedState(task)] += 1;
    return counts;
  }

  stop(): void {
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.runtime.close();
    this.events.flush();
  }

  /**
   * The epoch fence: commands from a master older than the newest seen, for another machine,
   * or whose term the leader's key did not sign, are refused. Without the signature check,
   * one forged command with a huge epoch would fence every real leader out.
   */
  obey(envelope: Envelope<LeaseBatch>): void {
    const epoch = envelope.epoch;
    if (epoch === undefined || epoch < this.epochSeen) {
      this.log.warn({ epoch, epochSeen: this.epochSeen }, "refused commands from a stale or unfenced master");
      return;
    }
    if (envelope.body.node !== this.options.name) {
      this.log.warn({ node: envelope.body.node }, "refused commands addressed to another machine");
      return;
    }
    if (!this.options.leader.verifiesTerm(this.options.cell, epoch, envelope.body.termSignature)) {
      this.log.warn({ epoch, epochSeen: this.epochSeen }, "refused commands whose term the leader's key did not sign (a forged or foreign leader)");
      return;
    }
    this.epochSeen = epoch;
    // In order, revocations first as the leader sent them: a grant queued behind its own revocation never runs.
    this.commands.push(...envelope.body.revokes.map((revocation) => ({ revocation })), ...envelope.body.grants.map((lease) => ({ lease })));
  }

  private carryOut(command: Command): void {
    if ("lease" in command) {
      this.run(command.lease);
      return;
    }
    const { revocation } = command;
    const task = this.tasks.get(revocation.taskId);
    if (task === undefined || task.lease.incarnation > revocation.incarnation) return;
    this.log.info({ task: revocation.taskId, reason: revocation.reason }, "stopping task");
    task.stop(revocation.gracePeriodMs, true);
  }

  private run(lease: Lease): void {
    const existing = this.tasks.get(lease.taskId);
    if (existing !== undefined) {
      if (existing.lease.incarnation >= lease.incarnation) return; // a resent lease: already running
      existing.stop(existing.lease.gracePeriodMs, true);
    }
    const log = this.taskLog(lease);
    const finished = lease.afterLostRun === undefined ? undefined : this.finishedRuns.exitOf(lease.taskId, lease.afterLostRun);
    if (finished !== undefined) {
      // The master placed this run not knowing the one before finished the task here (its exit
      // was not yet reported, or lost): report that exit again, at once, and do not start this
      // one. The master finishes the task and revokes this lease; if the report is lost again,
      // it resends the lease and this happens again.
      log.info({ incarnation: lease.incarnation, finished: lease.afterLostRun }, "not starting the task: its earlier run finished here after its machine was marked down");
      this.events.sendNow(finished);
      return;
    }
    const started = this.runtime.start(lease, log, this.lifecycleOf(lease, log, () => task));
    if ("failed" in started) {
      log.warn(started.failed);
      this.events.emit({ kind: "failed", taskId: lease.taskId, incarnation: lease.incarnation, message: started.failed, at: Date.now() });
      return;
    }
    const task: RunningTask = started;
    this.tasks.set(lease.taskId, task);
  }

  private taskLog(lease: Lease): Logger {
    return this.log.child({ job: lease.taskId.split(".").slice(1).join("."), task: lease.taskId });
  }

  /** What a task tells its borglet as it starts, fails to start, or exits: the same for every runtime. */
  private lifecycleOf(lease: Lease, log: Logger, task: () => RunningTask) {
    return {
      started: (pid: number) => {
        log.info({ pid, ports: lease.ports, ...(lease.image === undefined ? {} : { image: lease.image }) }, "task started");
        this.events.emit({ kind: "started", taskId: lease.taskId, incarnation: lease.incarnation, pid, at: Date.now() });
        this.watchHealth(task(), log);
      },
      failed: (message: string) => {
        if (this.tasks.get(lease.taskId) === task()) this.tasks.delete(lease.taskId);
        if (!this.tasks.has(lease.taskId)) this.usageObserver?.ended(lease.taskId);
        log.warn({ err: message }, "task failed to start");
        this.events.emit({ kind: "failed", taskId: lease.taskId, incarnation: lease.incarnation, message, at: Date.now() });
      },
      exited: (exit: TaskExit) => this.exited(task(), exit),
    };
  }

  /** Evicts non-production tasks when the machine's tasks use nearly all its memory; their masters place them again elsewhere. */
  private relieveMemoryPressure(measured: MeasuredTask<RunningTask>[]): void {
    const capacity = this.options.capacity.ram;
    const inUse = measured.reduce((sum, task) => sum + task.ramBytes, 0);
    for (const { task, ramBytes } of tasksToEvict(measured, capacity)) {
      const why = `memory pressure on ${this.options.name} (tasks use ${Math.round(inUse / 2 ** 20)}M of ${Math.round(capacity / 2 ** 20)}M; this one ${Math.round(ramBytes / 2 ** 20)}M)`;
      this.log.warn({ task: task.lease.taskId, band: task.lease.priority, ramBytes }, "evicting a task: memory pressure");
      this.evicted.set(task, why);
      task.stop(Math.min(task.lease.gracePeriodMs, EVICTION_GRACE_MS), false);
    }
  }

  /** Checks the task as its job says; an unhealthy task is stopped (its grace period given) and restarted by its policy. */
  private watchHealth(task: RunningTask, log: Logger): void {
    const { health, taskId, incarnation, ports, gracePeriodMs } = task.lease;
    if (health === undefined || !this.runtime.checksHealth) return;
    const prober = new HealthProber(health, { host: this.options.host, ports, exec: (command, timeoutMs) => task.exec(command, timeoutMs) }, (verdict, message) => {
      log.info({ health: verdict, check: message }, "task health changed");
      this.events.emit({ kind: "health", taskId, incarnation, health: verdict, ...(message === undefined ? {} : { message }), at: Date.now() });
      if (verdict === "unhealthy" && !task.terminating) {
        this.unhealthy.set(task, message ?? "failed its health check");
        task.stop(gracePeriodMs, false);
      }
    });
    this.probers.set(task, prober);
    prober.start();
  }

  private exited(task: RunningTask, exit: TaskExit): void {
    const { taskId, incarnation } = task.lease;
    this.probers.get(task)?.stop();
    this.probers.delete(task);
    const unhealthy = this.unhealthy.get(task);
    this.unhealthy.delete(task);
    const evicted = this.evicted.get(task);
    this.evicted.delete(task);
    if (this.tasks.get(taskId) === task) this.tasks.delete(taskId);
    this.usage.forget(`${taskId}/${incarnation}`);
    // A newer incarnation of the task may run already: its series stay.
    if (!this.tasks.has(taskId)) this.usageObserver?.ended(taskId);
    this.log.info({ task: taskId, ...exit }, "task exited");
    const event: TaskEvent = { kind: "exited", taskId, incarnation, revoked: exit.revoked, at: Date.now() };
    if (exit.exitCode !== undefined) event.exitCode = exit.exitCode;
    if (exit.signal !== undefined) event.signal = exit.signal;
    if (exit.oom === true) event.oom = true;
    if (exit.oomOfAlloc === true) event.oomOfAlloc = true;
    if (exit.ranForMs !== undefined) event.ranForMs = exit.ranForMs;
    if (unhealthy !== undefined) event.unhealthy = unhealthy;
    if (evicted !== undefined) event.evicted = evicted;
    this.finishedRuns.note(event);
    this.events.emit(event);
  }

  /** Reports the machine and what it runs: the task list whole when it changed, else its digest. */
  heartbeat(): void {
    const { cell, name } = this.options;
    const measured: MeasuredTask<RunningTask>[] = [];
    // Built field by field, without spreads: a hollow fleet builds thousands of these a second.
    const tasks: HeartbeatTask[] = [];
    for (const task of this.tasks.values()) {
      const { lease } = task;
      const reported: HeartbeatTask = { taskId: lease.taskId, incarnation: lease.incarnation, state: reportedState(task), ports: lease.ports };
      if (task.pid !== undefined) reported.pid = task.pid;
      const counters = task.usage?.();
      if (counters !== undefined) {
        const usage = this.usage.sample(`${lease.taskId}/${lease.incarnation}`, counters);
        this.usageObserver?.measured(lease.taskId, { cpu: usage?.cpu, ramBytes: counters.ramBytes });
        if (usage !== undefined) reported.usage = usage;
        // A task in an alloc uses its alloc's room, which no one else was given: never evicted for pressure.
        const evictable = !task.terminating && lease.alloc === undefined;
        measured.push({ task, band: evictable ? lease.priority : undefined, ramBytes: counters.ramBytes });
      }
      const health = this.probers.get(task)?.current;
      if (health !== undefined) reported.health = health;
      tasks.push(reported);
    }
    const usageMoved = this.usage.takeMoved();
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
      ...this.taskList.next(tasks, usageMoved),
      heartbeatMs: this.options.heartbeatMs,
      ...(usageMoved ? { usageMoved: true as const } : {}),
    });
    if (measured.length > 0) this.relieveMemoryPressure(measured);
  }
}

function reportedState(task: RunningTask): HeartbeatTask["state"] {
  return task.terminating ? "terminating" : task.pid === undefined ? "starting" : "running";
}
