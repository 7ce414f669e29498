import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { z } from "zod";
import type { Logger } from "@corral/kit";
import type { TaskRecordFile } from "./task-record.js";
import type { PidsCgroupRequest } from "./task-pids-cgroup.js";

const HELPER = fileURLToPath(new URL("./spawn-helper.mjs", import.meta.url));

/**
 * Spawns asked of the helper and not yet answered. The helper spawns one at a time anyway;
 * the bound keeps the rest queued here, where a stop can still cancel them, and keeps one
 * burst of leases from filling the pipe.
 */
export const DEFAULT_STARTS_IN_FLIGHT = 16;
/** A helper that died is started again after this long. */
const RESTART_HELPER_MS = 1000;

export interface SpawnRequest {
  file: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  stdout: string;
  stderr: string;
  /** the task record to write once the pid is known (the helper adds pid and startTime) */
  record?: { path: string; fields: Omit<TaskRecordFile, "pid" | "startTime"> };
  cwd?: string;
  /** run as this uid and gid (the helper runs as root); its log files are made theirs alone */
  uid?: number;
  gid?: number;
  /** with uid and gid: a directory made afresh for the run, theirs alone, and its working directory */
  sandbox?: string;
  /** its stderr comes back with its exit (the start of it) instead of going to the `stderr` file */
  captureStderr?: boolean;
  /** a pids cgroup made for it, with its limit, that it is forked inside (it cannot fork before it is there) */
  pidsCgroup?: PidsCgroupRequest;
}

export interface SpawnEvents {
  spawned(pid: number): void;
  /** it never started (missing binary, too many open files, the helper died first) */
  failed(message: string): void;
  exited(code: number | null, signal: NodeJS.Signals | null, stderr?: string): void;
  /** the helper died while it ran: the process goes on, but its exit will not be reported */
  lost(): void;
}

const reply = z.discriminatedUnion("op", [
  z.object({ op: z.literal("spawned"), id: z.number().int(), pid: z.number().int().positive() }),
  z.object({ op: z.literal("failed"), id: z.number().int(), error: z.string() }),
  z.object({ op: z.literal("exited"), id: z.number().int(), code: z.number().int().nullable(), signal: z.string().nullable(), stderr: z.string().optional() }),
]);

interface Entry {
  id: number;
  request: SpawnRequest;
  events: SpawnEvents;
  state: "queued" | "asked" | "running";
}

/**
 * Starts task processes through the spawn helper (spawn-helper.mjs says why), a bounded
 * number at a time, the rest in a queue: a burst of hundreds of leases never blocks the
 * borglet's event loop, which keeps heartbeating and reporting exits meanwhile.
 */
export class Spawner {
  private helper: ChildProcess | undefined;
  private readonly queue: Entry[] = [];
  private readonly entries = new Map<number, Entry>();
  private asked = 0;
  private nextId = 1;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly maxInFlight = DEFAULT_STARTS_IN_FLIGHT,
  ) {}

  /** Tasks waiting for their turn to be spawned. */
  get queued(): number {
    return this.queue.length;
  }

  start(): void {
    this.stopped = false;
    // No loader and a small heap: the helper's size is what every fork copies.
    const helper = spawn(process.execPath, ["--max-old-space-size=64", HELPER], { stdio: ["pipe", "pipe", "inherit"] });
    this.helper = helper;
    createInterface({ input: helper.stdout! }).on("line", (line) => this.onReply(line));
    helper.stdin!.on("error", () => {}); // the exit handler below deals with a dead helper
    helper.once("exit", (code, signal) => this.onHelperExit(helper, code, signal));
    this.pump();
  }

  /** Closes the helper's input: it exits, and running tasks go on without it (a restarted borglet adopts them). */
  stop(): void {
    this.stopped = true;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.helper?.stdin?.end();
  }

  /**
   * Runs a short command (mount, umount) from the helper to its end, so the borglet never
   * forks itself (a fork of the borglet was half its cpu in a burst of container starts);
   * rejects when it fails, with its stderr as the error's `stderr`.
   */
  run(file: string, args: readonly string[], options: { cwd?: string } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      const failure = (message: string, stderr: string) => Object.assign(new Error(`${file} ${message}`), { stderr });
      this.spawn(
        { file, args, stdout: "/dev/null", stderr: "/dev/null", captureStderr: true, ...(options.cwd === undefined ? {} : { cwd: options.cwd }) },
        {
          spawned: () => {},
          failed: (message) => reject(failure(`could not start: ${message}`, message)),
          exited: (code, signal, stderr) => (code === 0 ? resolve() : reject(failure(`failed (${code ?? signal})`, stderr ?? ""))),
          lost: () => reject(failure("was lost: the borglet's spawn helper died while it ran", "")),
        },
      );
    });
  }

  /** Queues a spawn. `cancel` takes it back while it is still queued, and says whether it did. */
  spawn(request: SpawnRequest, events: SpawnEvents): { cancel: () => boolean } {
    const entry: Entry = { id: this.nextId++, request, events, state: "queued" };
    this.queue.push(entry);
    this.pump();
    return {
      cancel: () => {
        const index = this.queue.indexOf(entry);
        if (index < 0) return false;
        this.queue.splice(index, 1);
        return true;
      },
    };
  }

  private pump(): void {
    const helper = this.helper;
    if (helper?.stdin === undefined || helper.stdin === null || helper.exitCode !== null || helper.signalCode !== null) return;
    while (this.asked < this.maxInFlight && this.queue.length > 0) {
      const entry = this.queue.shift()!;
      entry.state = "asked";
      this.asked += 1;
      this.entries.set(entry.id, entry);
      // The whole request: a field left out here would be silently ignored by the helper.
      helper.stdin.write(`${JSON.stringify({ ...entry.request, op: "spawn", id: entry.id })}\n`);
    }
  }

  private onReply(line: string): void {
    let parsed: z.infer<typeof reply>;
    try {
      parsed = reply.parse(JSON.parse(line));
    } catch (error) {
      this.log.error({ err: (error as Error).message, line: line.slice(0, 200) }, "spawn helper said something unexpected");
      return;
    }
    const entry = this.entries.get(parsed.id);
    if (entry === undefined) return;
    switch (parsed.op) {
      case "spawned":
        this.answered(entry);
        entry.state = "running";
        entry.events.spawned(parsed.pid);
        break;
      case "failed":
        this.answered(entry);
        this.entries.delete(entry.id);
        entry.events.failed(parsed.error);
        break;
      case "exited":
        this.entries.delete(entry.id);
        entry.events.exited(parsed.code, parsed.signal as NodeJS.Signals | null, parsed.stderr);
        break;
    }
  }

  private answered(entry: Entry): void {
    if (entry.state !== "asked") return;
    this.asked -= 1;
    this.pump();
  }

  private onHelperExit(helper: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.helper !== helper) return;
    this.helper = undefined;
    this.asked = 0;
    const orphaned = [...this.entries.values()];
    this.entries.clear();
    // Stopped with the borglet: what runs is the next borglet's to adopt, from its records.
    if (this.stopped) return;
    this.log.error({ code, signal, running: orphaned.length, queued: this.queue.length }, "spawn helper exited");
    for (const entry of orphaned) {
      if (entry.state === "running") entry.events.lost();
      else entry.events.failed("the borglet's spawn helper died before it started the task");
    }
    this.restartTimer = setTimeout(() => this.start(), RESTART_HELPER_MS);
  }
}
