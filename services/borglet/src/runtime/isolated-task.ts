import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseTaskId, type Lease } from "@corral/contracts";
import type { IdShift } from "@corral/images";
import { CONTAINER_ID_COUNT } from "../task-uids.js";
import { substitutePorts } from "@corral/spec";
import type { TaskExit, TaskPaths } from "../host-task.js";
import { TaskCgroup, type CgroupUsage } from "./cgroups.js";
import { DEFAULT_PATH, ociConfig } from "./oci-config.js";
import { isSameProcessAlive, processStartTime } from "@corral/kit";
import { execInContainer } from "./exec-in-container.js";
import { removeTaskRecordIfOurs, writeTaskRecord } from "../task-record.js";
import { terminate } from "../task-process.js";
import type { Spawner } from "../spawner.js";
import { imageUser } from "./image-user.js";
import { findInRoot } from "./path-in-root.js";
import type { IsolatedRuntime, PreparedRoot } from "./isolated-runtime.js";
import { containerEnvironment, volumeBinds } from "./container-setup.js";
import { deleteContainer, exitStatusOf, lastLine, readPidFile, runcRunArgs } from "./runc.js";

export interface IsolatedTaskEvents {
  started(pid: number): void;
  failed(message: string): void;
  exited(exit: TaskExit): void;
  /** what could not be cleaned up (a root that would not unmount) */
  leftover?(what: string): void;
}

const PID_FILE_WAIT_MS = 30_000;
const PID_FILE_POLL_MS = 10;
/** A runc whose spawn helper died: its end is noticed by looking, this often. */
const WATCH_LOST_MS = 250;

/**
 * A task in its own container (the `isolated` runtime): a root filesystem from its image on
 * overlayfs, and runc for the namespaces and cgroup limits. `runc run --keep` stays in the
 * foreground as the task's supervisor, in its own process group, so the task outlives a
 * borglet restart; the container is kept after exit just long enough to read whether the
 * kernel OOM-killed it. runc is started through the borglet's spawn helper (spawner.ts says
 * why), and only as many containers are started at once as the start gate lets through.
 */
export class IsolatedTask {
  pid: number | undefined;
  private startedAt = 0;
  /** runc's pid: the supervisor that stays in the foreground while the container runs */
  private supervisorPid: number | undefined;
  /** lets the next container start in: once this one runs, or failed to */
  private leaveStartGate: () => void = () => {};
  private stopping: { revoked: boolean; gracePeriodMs: number; killTimer?: NodeJS.Timeout } | undefined;
  /** a stop signal reached the container's init while it lived */
  private signalled = false;
  /** the init's start time, so a signal never reaches a process that took its pid later */
  private pidStartTime = -1;
  private readonly containerId: string;
  private readonly bundle: string;
  readonly cgroup: TaskCgroup;
  /** the container's user namespace, chosen as it starts (userNamespace) */
  private idMap: IdShift | undefined;
  /** set once this task is counted in its alloc's cgroup, until its teardown */
  private inAlloc: string | undefined;

  constructor(
    readonly lease: Lease,
    private readonly host: string,
    private readonly node: string,
    private readonly dataDir: string,
    private readonly runtime: IsolatedRuntime,
    private readonly paths: TaskPaths,
    private readonly spawner: Spawner,
    private readonly events: IsolatedTaskEvents,
  ) {
    this.containerId = `${lease.taskId}-${lease.incarnation}`;
    this.bundle = join(dataDir, "bundles", this.containerId);
    // A task in an alloc lives inside the alloc's cgroup, which holds the alloc's reservation.
    const parent = lease.alloc === undefined || lease.allocSize === undefined ? runtime.cgroupParent : runtime.allocCgroups.pathOf(lease.alloc);
    this.cgroup = new TaskCgroup(runtime.cgroupVersion, `${parent}/${this.containerId}`);
  }

  get terminating(): boolean {
    return this.stopping !== undefined;
  }

  get started(): boolean {
    return this.pid !== undefined;
  }

  /** An exec health check runs inside the container, as `runc exec` does. */
  exec(command: readonly string[], timeoutMs: number): Promise<{ exitCode: number | null; output: string }> {
    return execInContainer(this.runtime, this.containerId, this.bundle, command, timeoutMs);
  }

  usage(): CgroupUsage | undefined {
    return this.pid === undefined ? undefined : this.cgroup.usage();
  }

  /**
   * Waits its turn at the start gate, prepares the root filesystem, then runs the container;
   * every outcome ends in one event. The gate is held until the container runs or failed.
   */
  async start(): Promise<void> {
    this.leaveStartGate = await this.runtime.starts.enter();
    if (this.stopping !== undefined) {
      // Stopped while it waited: nothing was made, so nothing to take down.
      this.leaveStartGate();
      this.events.exited({ revoked: this.stopping.revoked });
      return;
    }
    const image = this.lease.image!;
    let root: PreparedRoot;
    try {
      this.idMap = this.userNamespace();
      rmSync(this.bundle, { recursive: true, force: true });
      // Others may pass through to the root file system (a container's root in its user
      // namespace must), but not list the bundles or read their configs, which hold the env.
      mkdirSync(join(this.bundle, ".."), { recursive: true, mode: 0o711 });
      mkdirSync(this.bundle, { mode: 0o711 });
      mkdirSync(join(this.paths.stdout, ".."), { recursive: true });
      root = await this.runtime.prepareRoot(image, join(this.bundle, "fs"), (file, args, options) => this.spawner.run(file, args, options), this.idMap);
    } catch (error) {
      this.leaveStartGate();
      this.cleanBundle();
      this.events.failed(`image ${image}: ${(error as Error).message}`);
      return;
    }
    try {
      await this.run(root, image);
    } catch (error) {
      // A disk full or a directory that cannot be made: the task fails, the borglet goes on.
      this.leaveStartGate();
      await this.teardown(root);
      this.events.failed(`could not start the container: ${(error as Error).message}`);
    }
  }

  /**
   * The ids the container's user namespace maps: its owner's block, so its root is an
   * unprivileged uid here and other users' containers have other ids. None when an admin's job
   * asked to run as root, or the machine runs containers without (--container-uids none).
   */
  private userNamespace(): IdShift | undefined {
    if (this.lease.runAsRoot === true || this.runtime.containerIds === undefined) return undefined;
    const owner = parseTaskId(this.lease.taskId)?.user ?? this.lease.taskId;
    return { offset: this.runtime.containerIds.of(owner).uid, size: CONTAINER_ID_COUNT };
  }

  /** Writes the bundle and launches runc; when it cannot, says why (the start gate is left either way by then or later, at the pid). */
  private async run(root: PreparedRoot, image: string): Promise<void> {
    const launched = this.launchable(root, image);
    if (launched === true) return;
    this.leaveStartGate();
    await this.teardown(root);
    if (launched === "stopped") this.events.exited({ revoked: this.stopping!.revoked });
    else this.events.failed(launched.failed);
  }

  /** Launches the container (true), or says it was stopped meanwhile or why it cannot run; nothing to undo but the root. */
  private launchable(root: PreparedRoot, image: string): true | "stopped" | { failed: string } {
    if (this.stopping !== undefined) return "stopped";
    const imagePath = root.env.find((entry) => entry.startsWith("PATH="))?.slice(5) ?? DEFAULT_PATH;
    const binary = findInRoot(root.rootfs, this.lease.binary, imagePath);
    if (binary.path === undefined) return { failed: `binary '${this.lease.binary}' not found in image ${image} (looked in ${binary.searched.slice(0, 6).join(", ")})` };
    const user = imageUser(root.rootfs, root.user);
    if ("problem" in user) return { failed: `image ${image}: ${user.problem}` };
    const idMap = this.idMap;
    if (idMap !== undefined && (user.uid >= idMap.size || user.gid >= idMap.size)) {
      return { failed: `image ${image}: the image's USER '${root.user}' is ${user.uid}:${user.gid}, beyond the ids a container's user namespace maps (0-${idMap.size - 1}); use a lower uid in the image` };
    }
    // A named volume made for this container belongs to whom it runs as, seen from the machine.
    const volumeOwner = idMap === undefined ? user : { uid: idMap.offset + user.uid, gid: idMap.offset + user.gid };
    const binds = volumeBinds(this.lease, this.runtime.hostVolumeDirs, this.node, this.dataDir, volumeOwner);
    if (typeof binds === "string") return { failed: binds };
    if (this.lease.alloc !== undefined && this.lease.allocSize !== undefined) {
      this.runtime.allocCgroups.enter(this.lease.alloc, this.lease.allocSize, this.lease.allocPriority ?? this.lease.priority);
      this.inAlloc = this.lease.alloc;
    }
    writeFileSync(join(this.bundle, "config.json"), JSON.stringify(ociConfig({
      rootfs: root.rootfs,
      hostname: this.lease.taskId,
      args: [binary.path, ...this.lease.args.map((arg) => substitutePorts(arg, this.lease.ports))],
      env: containerEnvironment(this.lease, this.host, root.env, imagePath),
      cwd: root.workingDir ?? "/",
      cgroupsPath: this.cgroup.path,
      cpu: this.lease.requirements.cpu,
      ramBytes: this.lease.requirements.ram,
      band: this.lease.priority,
      binds,
      seccomp: this.runtime.seccomp,
      user,
      idMap,
    })), { mode: 0o600 });
    this.launch(root);
    return true;
  }

  private launch(root: PreparedRoot): void {
    const pidFile = join(this.bundle, "pid");
    let exited = false;
    /** The container's init, once runc has written its pid: the task has started. */
    const notePid = (): boolean => {
      if (this.pid !== undefined) return true;
      const pid = readPidFile(pidFile);
      if (pid === undefined) return false;
      this.pid = pid;
      this.pidStartTime = processStartTime(pid) ?? -1;
      this.startedAt = Date.now();
      this.leaveStartGate();
      this.writeRecord(pid);
      this.events.started(pid);
      return true;
    };
    const ended = (code: number | null, signal: NodeJS.Signals | null, spawnError: string | undefined) => {
      if (exited) return;
      exited = true;
      // A task quicker than the poll below still started: say so before its exit.
      notePid();
      this.leaveStartGate();
      this.finished(root, code, signal, spawnError).catch((error: unknown) => this.events.leftover?.(`${this.bundle}: ${(error as Error).message}`));
    };
    this.spawner.spawn(
      { file: this.runtime.runc, args: runcRunArgs(this.runtime, this.bundle, pidFile, this.containerId), stdout: this.paths.stdout, stderr: this.paths.stderr },
      {
        spawned: (pid) => {
          this.supervisorPid = pid;
          waitForPid();
        },
        failed: (message) => ended(null, null, message),
        exited: (code, signal) => ended(code, signal, undefined),
        // The helper died: runc goes on, but its exit status is lost. Its end is watched for instead.
        lost: () => this.watchLostSupervisor(() => ended(null, null, undefined)),
      },
    );
    const deadline = Date.now() + PID_FILE_WAIT_MS;
    const waitForPid = () => {
      if (exited) return;
      if (notePid()) {
        // A stop asked for while the container was being created is carried out now, grace and all.
        if (this.stopping !== undefined) this.stopping.killTimer = terminate((signal) => this.signal(signal), this.stopping.gracePeriodMs);
        return;
      }
      if (Date.now() > deadline) {
        this.signalSupervisor("SIGKILL");
        return;
      }
      setTimeout(waitForPid, PID_FILE_POLL_MS);
    };
  }

  private watchLostSupervisor(gone: () => void): void {
    const pid = this.supervisorPid;
    if (pid === undefined) return gone();
    const watched = { pid, startTime: processStartTime(pid) ?? -1 };
    const watcher = setInterval(() => {
      if (isSameProcessAlive(watched)) return;
      clearInterval(watcher);
      gone();
    }, WATCH_LOST_MS);
  }

  /** Written once the container runs, so a restarted borglet can adopt it and `cell down` can find it. */
  private writeRecord(containerPid: number): void {
    const supervisor = this.supervisorPid;
    if (supervisor === undefined) return;
    mkdirSync(join(this.paths.record, ".."), { recursive: true });
    writeTaskRecord(this.paths.record, {
      taskId: this.lease.taskId,
      incarnation: this.lease.incarnation,
      pid: supervisor,
      startTime: processStartTime(supervisor) ?? 0,
      lease: this.lease,
      runtime: "isolated",
      container: { pid: containerPid, startTime: processStartTime(containerPid) ?? 0, id: this.containerId, bundle: this.bundle, cgroupPath: this.cgroup.path },
    });
  }

  private async finished(root: PreparedRoot, code: number | null, signal: NodeJS.Signals | null, spawnError: string | undefined): Promise<void> {
    if (this.stopping?.killTimer !== undefined) clearTimeout(this.stopping.killTimer);
    const oom = this.cgroup.oomKills() > 0;
    const ofAlloc = oom && this.inAlloc !== undefined && !this.cgroup.hitOwnMemoryLimit();
    const neverStarted = this.pid === undefined;
    await this.teardown(root);
    // Last, so a borglet that dies while tearing down still finds the container at its next start.
    if (this.supervisorPid !== undefined) removeTaskRecordIfOurs(this.paths.record, this.supervisorPid);
    if (neverStarted && this.stopping === undefined) {
      // runc could not create the container: its own error is the last thing it wrote.
      const why = spawnError ?? lastLine(this.paths.stderr) ?? `runc exited with ${code ?? signal}`;
      this.events.failed(`could not start the container: ${why}`);
      return;
    }
    // Stopped only if it never ran, or a stop signal reached it alive: a container that had ended before the
    // stop came (its exit not yet read, as after a freeze) finished on its own, and its exit 0 may finish the task.
    const revoked = (this.stopping?.revoked ?? false) && (neverStarted || this.signalled);
    const exit: TaskExit = { revoked, ...(this.startedAt > 0 ? { ranForMs: Date.now() - this.startedAt } : {}), ...exitStatusOf(code, signal) };
    // Only a task the kernel killed was OOM-killed: one of its children may have been instead.
    if (oom && exit.signal === "SIGKILL") exit.oom = true;
    if (exit.oom === true && ofAlloc) exit.oomOfAlloc = true;
    this.events.exited(exit);
  }

  private async teardown(root: PreparedRoot): Promise<void> {
    await deleteContainer(this.spawner, this.runtime, this.containerId);
    if (this.inAlloc !== undefined) {
      this.runtime.allocCgroups.leave(this.inAlloc);
      this.inAlloc = undefined;
    }
    try {
      await root.release();
    } catch (error) {
      // Removing a mounted root would delete the image's layers through it: leave it for the next start's sweep.
      this.events.leftover?.(`${this.bundle}: ${(error as Error).message}`);
      return;
    }
    this.cleanBundle();
  }

  private cleanBundle(): void {
    rmSync(this.bundle, { recursive: true, force: true });
  }

  /** SIGTERM to the container's init, SIGKILL after the grace period (its whole pid namespace dies with it). */
  stop(gracePeriodMs: number, revoked: boolean): void {
    if (this.stopping !== undefined) return;
    this.stopping = { revoked, gracePeriodMs };
    if (this.pid === undefined) return; // still being prepared: start() or the pid's arrival carries it out
    this.stopping.killTimer = terminate((signal) => this.signal(signal), gracePeriodMs);
  }

  private signal(signal: NodeJS.Signals): void {
    // Only the container's init as it was noted: once it is gone its pid may be another process's.
    if (this.pid === undefined || !isSameProcessAlive({ pid: this.pid, startTime: this.pidStartTime })) return;
    try {
      process.kill(this.pid, signal);
      this.signalled = true;
    } catch {
      // already gone
    }
  }

  private signalSupervisor(signal: NodeJS.Signals): void {
    try {
      if (this.supervisorPid !== undefined) process.kill(-this.supervisorPid, signal);
    } catch {
      // already gone
    }
  }
}
