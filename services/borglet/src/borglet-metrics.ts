import type { HeartbeatTask } from "@corral/contracts";
import { Gauge, type Registry } from "prom-client";

export type TaskStateCounts = Record<HeartbeatTask["state"], number>;

/** What the borglet tells about each measured task (isolated and adopted ones: they have a cgroup). */
export interface TaskUsageObserver {
  /** the task's cpu in cores since its last reading (absent on its first), its memory in bytes now */
  measured(taskId: string, usage: { cpu: number | undefined; ramBytes: number }): void;
  /** no task of this id runs here any more */
  ended(taskId: string): void;
}

/** The job of a task id: `3.hello_world.alice.local` is task 3 of `hello_world.alice.local`. */
function jobOf(taskId: string): string {
  return taskId.slice(taskId.indexOf(".") + 1);
}

/**
 * Per-task cpu and memory, set with each heartbeat's measurement (no extra reading of the
 * cgroups), and removed when the task ends, so a finished task leaves no stale series.
 */
export class TaskUsageMetrics implements TaskUsageObserver {
  private readonly cpu: Gauge<"task" | "job">;
  private readonly ram: Gauge<"task" | "job">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.cpu = new Gauge({ name: "corral_borglet_task_cpu_cores", help: "Cores a task used over the last heartbeat interval, from its cgroup (isolated tasks).", labelNames: ["task", "job"], registers });
    this.ram = new Gauge({ name: "corral_borglet_task_memory_bytes", help: "Memory a task's cgroup holds now (isolated tasks).", labelNames: ["task", "job"], registers });
  }

  measured(taskId: string, usage: { cpu: number | undefined; ramBytes: number }): void {
    const labels = { task: taskId, job: jobOf(taskId) };
    if (usage.cpu !== undefined) this.cpu.set(labels, usage.cpu);
    this.ram.set(labels, usage.ramBytes);
  }

  ended(taskId: string): void {
    const labels = { task: taskId, job: jobOf(taskId) };
    this.cpu.remove(labels);
    this.ram.remove(labels);
  }
}

/** The borglet's tasks by the state its heartbeats report, counted when scraped. */
export function countTasks(registry: Registry, counts: () => TaskStateCounts): void {
  new Gauge({
    name: "corral_borglet_tasks",
    help: "Tasks this borglet runs, by state: starting (no process yet), running, terminating.",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      for (const [state, count] of Object.entries(counts())) this.set({ state }, count);
    },
  });
}
