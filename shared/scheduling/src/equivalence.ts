import { usesReclaimed, type TaskRequest } from "./model.js";

/**
 * Borg's equivalence classes: tasks that ask the same of machines get the same answers, so
 * a class is examined once for all its tasks. What a task asks depends on its job only when
 * it declares a spread or limits tasks per machine; otherwise tasks of different jobs can share a class.
 */
export function equivalenceClassOf(task: TaskRequest): string {
  // Whether reclaimed resources count depends on the band: production and the rest never share a class.
  // So does the runtime: a machine may offer one and not the other.
  const asks = [task.requirements.cpu, task.requirements.ram, task.requirements.disk, task.requirements.ports, task.constraints, task.preferences, usesReclaimed(task), task.runtime];
  // A task avoiding machines asks something of its own: it shares a class with no other.
  if (task.avoid !== undefined && task.avoid.length > 0) return JSON.stringify([asks, task.taskId, task.avoid]);
  // The default spread over machines depends on the job too, but is scored apart (a job-bound scorer), so classes stay shared.
  const jobBound = typeof task.spread === "object" || task.maxPerMachine !== undefined;
  return JSON.stringify(jobBound ? [asks, task.job, task.spread, task.maxPerMachine] : asks);
}

/**
 * The class of each task, worked out once per job: a job's tasks share one spec, so
 * comparing what they ask with the job's first task is enough to find it again.
 */
export class EquivalenceClasses {
  private readonly known = new Map<string, { requirements: TaskRequest["requirements"]; key: string }>();

  of(task: TaskRequest): string {
    if (task.avoid !== undefined && task.avoid.length > 0) return equivalenceClassOf(task);
    const known = this.known.get(task.job);
    const need = task.requirements;
    if (known !== undefined && sameRequirements(known.requirements, need)) return known.key;
    const key = equivalenceClassOf(task);
    this.known.set(task.job, { requirements: need, key });
    return key;
  }
}

function sameRequirements(a: TaskRequest["requirements"], b: TaskRequest["requirements"]): boolean {
  return a === b || (a.cpu === b.cpu && a.ram === b.ram && a.disk === b.disk && a.ports === b.ports);
}
