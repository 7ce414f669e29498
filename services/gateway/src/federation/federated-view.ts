import { FEDERATION_LABEL, TASK_STATES, federationOf, type FederatedJobRecord, type FederatedJobView, type JobView, type TaskState } from "@corral/contracts";

/** What the gateway got from one cell for a federated job: its member job, none, or no answer. */
export type MemberLookup = { reachable: true; view: JobView | undefined } | { reachable: false };

/**
 * One federated job as users see it: every member's tasks in one list, each with its cell
 * (tasks past a member's replicas, stopped by a scale down, are left out), and per cell
 * what the policy wants there and what runs.
 */
export function federatedView(record: FederatedJobRecord, members: ReadonlyMap<string, MemberLookup>): FederatedJobView {
  const policy = federationOf(record.spec);
  const cells = policy?.cells ?? Object.keys(record.home);
  const summary = Object.fromEntries(TASK_STATES.map((state) => [state, 0])) as Record<TaskState, number>;
  const tasks: FederatedJobView["tasks"] = [];
  const cellViews = cells.map((cell) => {
    const lookup = members.get(cell);
    // A job of that name that is not this federated job's member is not shown as part of it.
    const found = lookup?.reachable === true ? lookup.view : undefined;
    const view = found?.labels[FEDERATION_LABEL] === record.id ? found : undefined;
    let running = 0;
    let live = 0;
    for (const task of view?.tasks ?? []) {
      if (task.state !== "dead") live += 1;
      if (task.index >= view!.replicas) continue;
      tasks.push({ ...task, cell });
      summary[task.state] += 1;
      if (task.state === "running") running += 1;
    }
    const refused = record.refused[cell]?.message;
    return {
      cell,
      home: record.home[cell] ?? 0,
      assigned: record.assigned[cell] ?? 0,
      running,
      live,
      reachable: lookup?.reachable ?? false,
      ...(refused === undefined ? {} : { refused }),
    };
  });
  return {
    id: record.id,
    name: record.name,
    user: record.user,
    federated: true,
    policy: policy?.policy ?? "spread",
    cells: cellViews,
    labels: record.spec.labels,
    priority: record.spec.priority,
    replicas: record.spec.replicas,
    binary: record.spec.binary,
    killed: record.killed,
    submittedAt: record.submittedAt,
    summary,
    tasks,
    events: record.events,
  };
}
