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
import { isSameProcessAlive, publishEvent, serveRpc, subscribeEvents, type Logger, type NatsConnection, type Subscription } from "@corral/kit";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { resolveBinary } from "./binaries.js";
import { Spawner } from "./spawner.js";
import { TaskListReporter } from "./task-list-reporter.js";
import { SlicedQueue } from "./sliced-queue.js";
import { HostTask, taskPaths, type TaskExit } from "./host-task.js";
import { readLog } from "./log-reader.js";
import { tasksToEvict, type MeasuredTask } from "./memory-pressure.js";
import { IsolatedTask } from "./runtime/isolated-task.js";
import type { IsolatedRuntime } from "./runtime/isolated-runtime.js";
import { AdoptedTask } from "./adopted-task.js";
import { sweepContainerLeftovers } from "./runtime/leftovers.js";
import { HealthProber } from "./health-prober.js";
import { readTaskRecords, removeTaskRecordIfOurs } from "./task-record.js";
import { UsageMeter } from "./usage-meter.js";
import { FinishedRuns } from "./finished-runs.js";
import type { TaskStateCounts, TaskUsageObserver } from "./borglet-metrics.js";
import { TaskEventOutbox } from "./task-event-outbox.js";
import { TaskLogRotator } from "./task-log-rotator.js";

/** Memory pressure does not wait out a long grace period. */
const EVICTION_GRACE_MS = 2000;

type RunningTask = HostTask | IsolatedTask | AdoptedTask;
type Command = { lease: Lease } | { revocation: LeaseBatch["revokes"][number] };

/** Grants and revocations carried out per turn of the event loop (see SlicedQueue). */
const COMMANDS_PER_SLICE = 32;

export interface BorgletOptions {
  cell: string;
  name: string;
  dataDir: string;
  capacity: Resources;
  attributes: Record<string, string>;
  portRange: [number, number];
  binaryPath: string[];
  heartbeatMs: number;
  /** spawns in flight at once; more wait in the start queue (default DEFAULT_STARTS_IN_FLIGHT) */
  startsInFlight?: number;
  /** the address tasks are reached at */
  host: string;
  /** a task's stdout or stderr beyond this is rotated (one older file kept) */
  logMaxBytes: number;
  /** how jobs with an image run here, or why they cannot */
  isolation: { ok: true; runtime: IsolatedRuntime } | { ok: false; problem: string };
}

/**
 * One machine's agent: obeys lease batches from the leader (never from a lower epoch than
 * it has seen), runs tasks, reports their changes in batches, and heartbeats what it runs.
 */
export class Borglet {
  private readonly tasks = new Map<string, RunningTask>();
  private readonly spawner: Spawner;
  private readonly commands = new SlicedQueue<Command>((command) => this.carryOut(command), COMMANDS_PER_SLICE);
  private readonly usage = new UsageMeter();
  private leftoversSwept: Promise<void> = Promise.resolve();
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
  private readonly logRotator: TaskLogRotator;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: BorgletOptions,
    private readonly log: Logger,
    /** told each task's measured usage and when a task ends (metrics) */
    private readonly usageObserver?: TaskUsageObserver,
  ) {
    this.spawner = new Spawner(log, options.startsInFlight);
    this.events = new TaskEventOutbox(nc, options.cell, options.name);
    this.logRotator = new TaskLogRotator(options.dataDir, options.logMaxBytes, log, () => this.tasks);
  }

  start(): void {
    const { cell, name, dataDir } = this.options;
    // Once here, not per task: every task's logs and record go in these.
    mkdirSync(join(dataDir, "logs"), { recursive: true });
    mkdirSync(join(dataDir, "tasks"), { recursive: true });
    this.spawner.start();
    this.adoptLeftTasks();
    this.subscriptions = [
      subscribeEvents(this.nc, subjects.nodeCommands(cell, name), leaseBatch, cell, this.log, (envelope) => this.obey(envelope)),
      serveRpc(this.nc, subjects.nodeLogs(cell, name), readLogs, cell, this.log, async ({ taskId, stream, tailBytes, from }) => {
        const paths = taskPaths(this.options.dataDir, taskId);
        return readLog(stream === "stdout" ? paths.stdout : paths.stderr, tailBytes, from);
      }),
      subscribeEvents(this.nc, subjects.nodeHeartbeatWanted(cell, name), heartbeatWanted, cell, this.log, () => this.taskList.wantFull()),
    ];
    this.sendHeartbeat();
    this.heartbeatTimer = setInterval(() => this.sendHeartbeat(), this.options.heartbeatMs);
    this.logRotator.start();
  }

  /** Its tasks by the state its heartbeats report. */
  taskStates(): TaskStateCounts {
    const counts: TaskStateCounts = { starting: 0, running: 0, terminating: 0 };
    for (const task of this.tasks.values()) counts[reportedState(task)] += 1;
    return counts;
  }

  stop(): void {
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    this.logRotator.stop();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.spawner.stop();
    this.events.flush();
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
    const log = this.log.child({ job: lease.taskId.split(".").slice(1).join("."), task: lease.taskId });
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
    if (lease.image !== undefined) {
      this.runIsolated(lease, log);
      return;
    }
    const binary = resolveBinary(lease.binary, this.options.binaryPath);
    if (binary.path === undefined) {
      const message = `binary '${lease.binary}' not found (looked in ${binary.searched.slice(0, 6).join(", ")}${binary.searched.length > 6 ? ", …" : ""})`;
      log.warn(message);
      this.events.emit({ kind: "failed", taskId: lease.taskId, incarnation: lease.incarnation, message, at: Date.now() });
      return;
    }
    const task: HostTask = new HostTask(lease, this.options.host, binary.path, taskPaths(this.options.dataDir, lease.taskId), this.spawner, this.lifecycleOf(lease, log, () => task, {}));
    // Reported as starting until its turn in the start queue comes.
    this.tasks.set(lease.taskId, task);
  }

  /** What a task tells its borglet as it starts, fails to start, or exits: the same for every runtime. */
  private lifecycleOf(lease: Lease, log: Logger, task: () => RunningTask, startedFields: Record<string, unknown>) {
    return {
      started: (pid: number) => {
        log.info({ pid, ports: lease.ports, ...startedFields }, "task started");
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

  private runIsolated(lease: Lease, log: Logger): void {
    const { isolation, host, name, dataDir } = this.options;
    if (!isolation.ok) {
      const message = `the isolated runtime is not available on ${name}: ${isolation.problem}`;
      log.warn(message);
      this.events.emit({ kind: "failed", taskId: lease.taskId, incarnation: lease.incarnation, message, at: Date.now() });
      return;
    }
    const task: IsolatedTask = new IsolatedTask(lease, host, name, dataDir, isolation.runtime, taskPaths(dataDir, lease.taskId), this.spawner, {
      ...this.lifecycleOf(lease, log, () => task, { image: lease.image }),
      leftover: (what) => log.warn({ leftover: what }, "could not clean up after a container; the next start of the borglet sweeps it"),
    });
    this.tasks.set(lease.taskId, task);
    // After the start-up sweep: a resent lease may name a container it is about to remove.
    this.leftoversSwept
      .then(() => task.start())
      .catch((error: unknown) => log.error({ err: (error as Error).message }, "container start failed unexpectedly"));
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

  /**
   * Tasks a previous run of this borglet left running are taken on again and reported in the
   * next heartbeat: the leader keeps those it still wants here and revokes the rest. Records
   * of tasks that ended meanwhile are cleared, with their containers' leftovers.
   */
  private adoptLeftTasks(): void {
    const { records, unreadable } = readTaskRecords(this.options.dataDir);
    for (const path of unreadable) this.log.warn({ record: path }, "left an unreadable task record alone");
    const runtime = this.options.isolation.ok ? this.options.isolation.runtime : undefined;
    for (const { path, record } of records) {
      const alive = isSameProcessAlive(record.container ?? record);
      const log = this.log.child({ job: record.taskId.split(".").slice(1).join("."), task: record.taskId });
      if (!alive && record.container === undefined) {
        removeTaskRecordIfOurs(path, record.pid);
        continue;
      }
      // A container that ended meanwhile is adopted too, just long enough to clear what it left.
      const task: AdoptedTask = new AdoptedTask(record, path, runtime, (exit) => this.exited(task, exit));
      if (!alive) continue;
      this.tasks.set(record.taskId, task);
      log.info({ pid: task.pid, incarnation: record.incarnation, runtime: record.runtime }, "adopted a task left running");
      this.watchHealth(task, log);
    }
    if (runtime !== undefined) {
      const known = new Set(records.map(({ record }) => record.container?.id).filter((id) => id !== undefined));
      this.leftoversSwept = sweepContainerLeftovers(runtime, this.options.dataDir, known).then(
        (swept) => {
          if (swept.length > 0) this.log.info({ containers: swept }, "removed containers and roots no task record knew");
          const allocs = runtime.allocCgroups.sweepEmpty();
          if (allocs.length > 0) this.log.info({ allocs }, "removed alloc cgroups no task was left in");
        },
        (error: unknown) => this.log.warn({ err: (error as Error).message }, "could not sweep container leftovers"),
      );
    }
  }

  /** Checks the task as its job says; an unhealthy task is stopped (its grace period given) and restarted by its policy. */
  private watchHealth(task: RunningTask, log: Logger): void {
    const { health, taskId, incarnation, ports, gracePeriodMs } = task.lease;
    if (health === undefined) return;
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

  private sendHeartbeat(): void {
    const { cell, name } = this.options;
    const measured: MeasuredTask<RunningTask>[] = [];
    const tasks: HeartbeatTask[] = [...this.tasks.values()].map((task) => {
      const counters = task instanceof HostTask ? undefined : task.usage();
      const usage = counters === undefined ? undefined : this.usage.sample(`${task.lease.taskId}/${task.lease.incarnation}`, counters);
      if (counters !== undefined) this.usageObserver?.measured(task.lease.taskId, { cpu: usage?.cpu, ramBytes: counters.ramBytes });
      // A task in an alloc uses its alloc's room, which no one else was given: never evicted for pressure.
      const evictable = !task.terminating && task.lease.alloc === undefined;
      if (counters !== undefined) measured.push({ task, band: evictable ? task.lease.priority : undefined, ramBytes: counters.ramBytes });
      return {
        taskId: task.lease.taskId,
        incarnation: task.lease.incarnation,
        state: reportedState(task),
        ...(task.pid === undefined ? {} : { pid: task.pid }),
        ports: task.lease.ports,
        ...(usage === undefined ? {} : { usage }),
        ...(this.probers.get(task)?.current === undefined ? {} : { health: this.probers.get(task)!.current! }),
      };
    });
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
    this.relieveMemoryPressure(measured);
  }
}

function reportedState(task: RunningTask): HeartbeatTask["state"] {
  return task.terminating ? "terminating" : task.pid === undefined ? "starting" : "running";
}
