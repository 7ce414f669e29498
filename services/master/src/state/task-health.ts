import type { TaskRecord } from "@corral/state";

/**
 * Takes a health verdict from a task's borglet, noting since when it is healthy: a rollout
 * counts a new task done only once it has been healthy for the job's min_healthy_time.
 */
export function noteHealth(task: TaskRecord, health: "healthy" | "unhealthy", now = Date.now()): void {
  if (health === "healthy" && task.health !== "healthy") task.healthySince = now;
  if (health === "unhealthy") delete task.healthySince;
  task.health = health;
}
