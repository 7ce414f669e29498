import type { ScorerFactory } from "../../plugin.js";

/**
 * Well below anything the other scorers give (each is about 0–100), so a machine the task
 * keeps crashing on is chosen only when no other machine fits (Borg §3.2: tasks that fail on
 * a machine are placed elsewhere, since the machine may be the cause).
 */
const CRASHED_HERE_PENALTY = -1000;

export const avoidCrashes: ScorerFactory = {
  name: "avoid-crashes",
  create: () => ({
    name: "avoid-crashes",
    appliesTo: (task) => task.avoid !== undefined && task.avoid.length > 0,
    score: (task, machine) => (task.avoid!.includes(machine.name) ? CRASHED_HERE_PENALTY : 0),
  }),
};
