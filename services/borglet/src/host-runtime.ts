// The runtime of a real machine: tasks as processes (HostTask) or containers (IsolatedTask),
// tasks a previous borglet left running adopted again, captured logs read and rotated.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runtimeOf, type Lease, type RuntimeName } from "@corral/contracts";
import { isSameProcessAlive, type Logger } from "@corral/kit";
import { AdoptedTask } from "./adopted-task.js";
import { resolveBinary } from "./binaries.js";
import { HostTask, sandboxOf, taskPaths, type RunAs, type TaskExit } from "./host-task.js";
import { readLog } from "./log-reader.js";
import { IsolatedTask } from "./runtime/isolated-task.js";
import type { IsolatedRuntime } from "./runtime/isolated-runtime.js";
import { sweepContainerLeftovers } from "./runtime/leftovers.js";
import { Spawner } from "./spawner.js";
import { readTaskRecords, removeTaskRecordIfOurs } from "./task-record.js";
import { TaskLogRotator } from "./task-log-rotator.js";
import type { TaskUids } from "./task-uids.js";
import { TaskPidsCgroup, type TaskPidsLimit } from "./task-pids-cgroup.js";
import type { RunningTask, TaskLifecycle, TaskLog, TaskRuntime } from "./task-runtime.js";

export interface HostRuntimeOptions {
  name: string;
  /** the address tasks are reached at */
  host: string;
  dataDir: string;
  binaryPath: string[];
  /** spawns in flight at once; more wait in the start queue (default DEFAULT_STARTS_IN_FLIGHT) */
  startsInFlight?: number;
  /** a task's stdout or stderr beyond this is rotated (one older file kept) */
  logMaxBytes: number;
  /** how jobs with an image run here, or why they cannot */
  isolation: { ok: true; runtime: IsolatedRuntime } | { ok: false; problem: string };
  /** the runtimes this machine offers (--runtimes); a task of another is refused, naming the flag */
  runtimes?: readonly RuntimeName[];
  /** each user's own uid for their host tasks; undefined: tasks run as the borglet does */
  taskUids?: TaskUids;
  /** each host task in a pids cgroup of its own with this limit; undefined: none (the borglet is not root) */
  pidsLimit?: TaskPidsLimit;
  /** setpriv, to start host tasks with no_new_privs (a setuid file gives them nothing) */
  setpriv?: string;
}

export class HostRuntime implements TaskRuntime {
  readonly checksHealth = true;
  private readonly spawner: Spawner;
  private leftoversSwept: Promise<void> = Promise.resolve();
  private logRotator: TaskLogRotator | undefined;

  constructor(
    private readonly options: HostRuntimeOptions,
    private readonly log: Logger,
  ) {
    this.spawner = new Spawner(log, options.startsInFlight);
  }

  open(tasks: () => Iterable<[string, RunningTask]>, exited: (task: RunningTask, exit: TaskExit) => void): RunningTask[] {
    const { dataDir, logMaxBytes } = this.options;
    // Once here, not per task: every task's logs and record go in these.
    mkdirSync(join(dataDir, "logs"), { recursive: true });
    mkdirSync(join(dataDir, "tasks"), { recursive: true });
    // Traversable by the tasks' own users, who may list nothing in it.
    mkdirSync(join(dataDir, "sandboxes"), { recursive: true, mode: 0o711 });
    if (this.options.pidsLimit !== undefined) TaskPidsCgroup.prepare(this.options.pidsLimit);
    this.spawner.start();
    const adopted = this.adoptLeftTasks(exited);
    this.logRotator = new TaskLogRotator(dataDir, logMaxBytes, this.log, tasks);
    this.logRotator.start();
    return adopted;
  }

  close(): void {
    this.logRotator?.stop();
    this.spawner.stop();
  }

  readonly readLog = (taskId: string, stream: "stdout" | "stderr", tailBytes: number, from?: number): Promise<TaskLog> => {
    const paths = taskPaths(this.options.dataDir, taskId);
    return readLog(stream === "stdout" ? paths.stdout : paths.stderr, tailBytes, from);
  };

  start(lease: Lease, log: Logger, lifecycle: TaskLifecycle): RunningTask | { failed: string } {
    const { dataDir, host, name, isolation } = this.options;
    // The scheduler places no such task here; a lease from before the flag changed still gets a clear answer.
    const runtime = runtimeOf(lease);
    if (this.options.runtimes !== undefined && !this.options.runtimes.includes(runtime)) {
      return { failed: `${name} runs no ${runtime} tasks (--runtimes ${this.options.runtimes.join(",")})` };
    }
    if (lease.image !== undefined) {
      if (!isolation.ok) return { failed: `the isolated runtime is not available on ${name}: ${isolation.problem}` };
      const task: IsolatedTask = new IsolatedTask(lease, host, name, dataDir, isolation.runtime, taskPaths(dataDir, lease.taskId), this.spawner, {
        ...lifecycle,
        leftover: (what) => log.warn({ leftover: what }, "could not clean up after a container; the next start of the borglet sweeps it"),
      });
      // After the start-up sweep: a resent lease may name a container it is about to remove.
      this.leftoversSwept.then(() => task.start()).catch((error: unknown) => log.error({ err: (error as Error).message }, "container start failed unexpectedly"));
      return task;
    }
    const binary = resolveBinary(lease.binary, this.options.binaryPath);
    if (binary.path === undefined) {
      return { failed: `binary '${lease.binary}' not found (looked in ${binary.searched.slice(0, 6).join(", ")}${binary.searched.length > 6 ? ", …" : ""})` };
    }
    let runAs: RunAs | undefined;
    if (this.options.taskUids !== undefined && lease.runAsRoot !== true) {
      const user = lease.taskId.split(".")[2]!;
      try {
        // The spawn helper makes the sandbox, fresh for each run and its owner's alone (0700): another user's task cannot look in.
        runAs = { user, ...this.options.taskUids.of(user), sandbox: sandboxOf(dataDir, lease.taskId, lease.incarnation) };
      } catch (error) {
        return { failed: `no uid for ${user} on this machine: ${(error as Error).message}` };
      }
    }
    const pids = this.options.pidsLimit === undefined ? undefined : new TaskPidsCgroup(this.options.pidsLimit, lease.taskId, lease.incarnation);
    // Reported as starting until its turn in the start queue comes.
    return new HostTask(lease, host, binary.path, taskPaths(dataDir, lease.taskId), this.spawner, lifecycle, runAs, pids, this.options.setpriv);
  }

  /**
   * Tasks a previous run of this borglet left running are taken on again and reported in the
   * next heartbeat: the leader keeps those it still wants here and revokes the rest. Records
   * of tasks that ended meanwhile are cleared, with their containers' leftovers.
   */
  private adoptLeftTasks(exited: (task: RunningTask, exit: TaskExit) => void): RunningTask[] {
    const { records, unreadable } = readTaskRecords(this.options.dataDir);
    for (const path of unreadable) this.log.warn({ record: path }, "left an unreadable task record alone");
    const runtime = this.options.isolation.ok ? this.options.isolation.runtime : undefined;
    const adopted: RunningTask[] = [];
    for (const { path, record } of records) {
      const alive = isSameProcessAlive(record.container ?? record);
      // A host run as its owner's uid had a sandbox of its own, which goes with it.
      const sandbox = record.container === undefined && this.options.taskUids !== undefined ? sandboxOf(this.options.dataDir, record.taskId, record.incarnation) : undefined;
      if (!alive && record.container === undefined) {
        // It ended while no borglet watched: what it forked and left dies now, as it would have then, and its sandbox goes.
        if (this.options.pidsLimit !== undefined) void new TaskPidsCgroup(this.options.pidsLimit, record.taskId, record.incarnation).killAllAndRemove();
        if (sandbox !== undefined) rmSync(sandbox, { recursive: true, force: true });
        removeTaskRecordIfOurs(path, record.pid);
        continue;
      }
      // A container that ended meanwhile is adopted too, just long enough to clear what it left.
      const pidsLimit = this.options.pidsLimit;
      // A host run's cgroup is named by its task and incarnation, as HostRuntime.start made it.
      const pids = record.container === undefined && pidsLimit !== undefined ? new TaskPidsCgroup(pidsLimit, record.taskId, record.incarnation) : undefined;
      const task: AdoptedTask = new AdoptedTask(record, path, runtime, (exit) => exited(task, exit), pids, sandbox);
      if (!alive) continue;
      this.log.info({ job: record.taskId.split(".").slice(1).join("."), task: record.taskId, pid: task.pid, incarnation: record.incarnation, runtime: record.runtime }, "adopted a task left running");
      adopted.push(task);
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
    return adopted;
  }
}
