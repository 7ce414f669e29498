import type { ScorerFactory } from "../../plugin.js";

/**
 * A machine the task keeps crashing on scores 0, any other 100; weighted above everything
 * else together, so that machine is chosen only when no other fits (Borg §3.2: tasks that
 * fail on a machine are placed elsewhere, since the machine may be the cause).
 */
export const avoidCrashes: ScorerFactory = {
  name: "avoid-crashes",
  create: () => ({
    name: "avoid-crashes",
    appliesTo: (task) => task.avoid !== undefined && task.avoid.length > 0,
    score: (task, machine) => (task.avoid!.includes(machine.name) ? 0 : 100),
  }),
};
