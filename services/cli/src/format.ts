import Table from "cli-table3";
import type { CellSummary, HistoryEntry, JobPlan, JobView, NodeView, SpreadRule, WhyPending } from "@corral/contracts";

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

export function bytes(value: number): string {
  if (value >= GIB) return `${(value / GIB).toFixed(1)}G`;
  return `${Math.round(value / MIB)}M`;
}

export function table(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [] }, chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" } });
}

export function jobsTable(jobs: readonly JobView[]): string {
  // The alloc column appears only where alloc sets are in the list.
  const withAllocs = jobs.some((job) => job.kind === "alloc" || job.allocSet !== undefined);
  // Measured usage comes from isolated tasks only: the columns appear when there is some.
  const withUsage = jobs.some((job) => job.tasks.some((task) => task.usage !== undefined));
  const withHealth = jobs.some((job) => job.tasks.some((task) => task.health !== undefined));
  // Revisions appear once a job of the list was updated.
  const withRevisions = jobs.some((job) => (job.revision ?? 1) > 1);
  const head = ["TASK", "STATE", "NODE", "ADDRESS", "PID", "RESTARTS", ...(withRevisions ? ["REV"] : []), ...(withHealth ? ["HEALTH"] : []), ...(withUsage ? ["CPU", "RAM"] : []), ...(withAllocs ? ["ALLOC"] : []), "REASON"];
  const rows = table(head);
  for (const job of jobs) {
    for (const task of job.tasks) {
      rows.push([
        task.id,
        task.state,
        task.node ?? "",
        task.host !== undefined && task.port !== undefined ? `${task.host}:${task.port}` : "",
        task.pid ?? "",
        task.restarts,
        ...(withRevisions ? [task.revision ?? ""] : []),
        ...(withHealth ? [task.health ?? ""] : []),
        ...(withUsage ? (task.usage === undefined ? ["", ""] : [task.usage.cpu.toFixed(2), bytes(task.usage.ram)]) : []),
        ...(withAllocs ? [allocCell(job, task)] : []),
        task.nextTryAt === undefined ? (task.reason ?? "") : `${task.reason ?? ""} (restarts in ${Math.max(1, Math.ceil((task.nextTryAt - Date.now()) / 1000))}s)`,
      ]);
    }
    // A list shows the first tasks of a big job; the job's own view has them all.
    if (job.moreTasksFrom !== undefined) {
      const total = Object.values(job.summary).reduce((sum, count) => sum + count, 0);
      rows.push([{ colSpan: head.length, content: `… ${total - job.tasks.length} more tasks of ${job.name}: corral ps ${job.id}` }]);
    }
  }
  return rows.toString();
}

/** For a task in an alloc, the alloc; for an alloc, how much of it its tasks take. */
function allocCell(job: JobView, task: JobView["tasks"][number]): string {
  if (task.alloc !== undefined) return `in ${task.alloc}`;
  if (job.kind !== "alloc") return "";
  if (task.allocUsed === undefined) return "reserves nothing yet";
  const { ram, cpu } = job.requirements;
  const used = task.allocUsed;
  return `${used.tasks} task${used.tasks === 1 ? "" : "s"}; ram ${bytes(used.ram)}/${bytes(ram)}, cpu ${Number(used.cpu.toFixed(3))}/${cpu}`;
}

/** A job's history for people: when, which task, what happened. */
export function eventsTable(events: readonly HistoryEntry[]): string {
  const rows = table(["TIME", "TASK", "EVENT", "WHAT"]);
  for (const event of events) rows.push([new Date(event.at).toISOString().replace("T", " ").slice(0, 23), event.task ?? "", event.kind, event.text]);
  return rows.toString();
}

export function jobSummary(job: JobView): string {
  const parts = Object.entries(job.summary)
    .filter(([, count]) => count > 0)
    .map(([state, count]) => `${count} ${state}`);
  // A federated job says where its replicas are: per cell, running of those assigned there.
  const cells = (job as { cells?: { cell: string; assigned: number; running: number; reachable: boolean; refused?: string }[] }).cells;
  const where = cells === undefined ? "" : ` [${cells.map((c) => `${c.cell} ${c.running}/${c.assigned}${c.reachable ? "" : " unreachable"}${c.refused === undefined ? "" : " refused"}`).join(", ")}]`;
  const rollout = job.rollout === undefined || job.rollout.state === "succeeded" ? "" : `; revision ${job.rollout.revision} ${job.rollout.state.replace("_", " ")} (${job.rollout.done ?? 0}/${job.replicas} updated)`;
  return `${job.id}: ${parts.join(", ")}${where}${rollout}`;
}

/** `corral cells`: one row per cell of the federation. */
export function cellsTable(cells: readonly CellSummary[]): string {
  const rows = table(["CELL", "HEALTH", "LEADER", "MACHINES", "CPU", "RAM", "RUNNING", "PENDING", "LAST ANSWER"]);
  for (const cell of cells) {
    rows.push([
      cell.cell,
      cell.health,
      cell.leader === undefined ? "" : `${cell.leader} (epoch ${cell.epoch ?? "?"})`,
      `${cell.machines.up}/${cell.machines.total} up`,
      `${cell.used.cpu.toFixed(1)}/${Number(cell.capacity.cpu.toFixed(1))}`,
      `${bytes(cell.used.ram)}/${bytes(cell.capacity.ram)}`,
      cell.tasks.running,
      cell.tasks.pending,
      `${(cell.lastAnsweredAgoMs / 1000).toFixed(1)}s ago`,
    ]);
  }
  return rows.toString();
}

export function nodesTable(nodes: readonly NodeView[]): string {
  const rows = table(["NODE", "STATE", "HOST", "PID", "CPU", "RAM", "TASKS", "PORTS"]);
  for (const node of nodes) {
    rows.push([
      node.name,
      node.state,
      node.host,
      node.pid,
      `${node.used.cpu.toFixed(1)}/${node.capacity.cpu}`,
      `${bytes(node.used.ram)}/${bytes(node.capacity.ram)}`,
      node.tasks,
      `${node.portRange[0]}-${node.portRange[1]}`,
    ]);
  }
  return rows.toString();
}

/** How a job's tasks are spread, in words. */
export function spreadText(spread: SpreadRule): string {
  const domains = spread.across.map((kind) => (kind === "machine" ? "machines" : kind === "rack" ? "racks" : "power domains"));
  if (spread.rule === "none") return "spread: none (spread = 'none'): the cell's policy alone decides, so tasks may share a machine";
  if (spread.rule === "declared") return `spread: across ${domains.join(", ")}, at most ${spread.maxSkew ?? 1} more in one than in another (a rule: machines that would break it are refused)`;
  return `spread: over ${domains.slice(0, -1).join(", ")} and ${domains.at(-1)}, by default, as a preference (spread = 'none' lets tasks share machines)`;
}

/** "why pending?" for people: counts per reason, then the advice. */
export function whyText(why: WhyPending): string {
  if (why.pending === 0) return `${why.job}: nothing is pending`;
  const lines = [`${why.job}: ${why.pending} task${why.pending === 1 ? "" : "s"} pending; ${why.fitting.toLocaleString("en-US")} of ${why.machines.toLocaleString("en-US")} ${why.over} can take one now`];
  const width = Math.max(0, ...why.refusals.map((r) => r.machines.toLocaleString("en-US").length));
  for (const refusal of why.refusals) lines.push(`  ${refusal.machines.toLocaleString("en-US").padStart(width)} ${why.over}: ${refusal.reason}`);
  for (const advice of why.advice) lines.push(`  → ${advice}`);
  if (why.spread !== undefined) lines.push(`  ${spreadText(why.spread)}`);
  return lines.join("\n");
}

/** A job plan for people: admission, then where each task would go, or why not and what it would preempt. */
export function planText(plan: JobPlan): string {
  const lines = [plan.admission.ok ? `${plan.job}: would be admitted` : `${plan.job}: would be REFUSED (${plan.admission.code}): ${plan.admission.message}`];
  const perNode = new Map<string, number>();
  for (const placement of plan.placements) perNode.set(placement.node, (perNode.get(placement.node) ?? 0) + 1);
  lines.push(
    `${plan.placements.length} task${plan.placements.length === 1 ? "" : "s"} would be placed${plan.unplaced.length === 0 ? "" : `, ${plan.unplaced.length} would stay pending`}` +
      (plan.planned === undefined ? "" : ` (only the first ${plan.planned} tasks were planned)`),
  );
  if (plan.spread !== undefined) lines.push(`${spreadText(plan.spread)}; ${perNode.size} machine${perNode.size === 1 ? "" : "s"} would run them`);
  if (perNode.size > 0) {
    const rows = table(["MACHINE", "TASKS"]);
    for (const [node, count] of [...perNode].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) rows.push([node, count]);
    lines.push(rows.toString());
  }
  for (const unplaced of plan.unplaced.slice(0, 5)) {
    const reasons = unplaced.refusals.map((r) => `${r.machines} ${r.reason}`).join(", ");
    lines.push(`  ${unplaced.task}: no machine (${reasons || "no machines"})${unplaced.preempts === undefined ? "" : `; would preempt ${unplaced.preempts.tasks.join(", ")} on ${unplaced.preempts.node}`}`);
  }
  if (plan.unplaced.length > 5) lines.push(`  … and ${plan.unplaced.length - 5} more (--json lists them all)`);
  return lines.join("\n");
}
