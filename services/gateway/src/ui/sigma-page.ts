/**
 * Sigma, the cell's web UI (Borg's Sigma): machines with usage bars, jobs and their tasks
 * with state, reason and health, why a job is pending, a job's events and a task's logs.
 * Behind a federation's gateway it shows every cell: their health and usage, the machines
 * of each, and federated jobs with each task's cell. One page of plain DOM code over the
 * gateway's own HTTP API; it refreshes when the gateway's event stream (SSE) says something
 * changed. Text is only ever set with textContent, never parsed as HTML.
 */
export function sigmaPage(home: string, cells: readonly string[] = [home], federated = false): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Corral · ${(federated ? cells.join(", ") : home).replace(/[^a-z0-9_, -]/g, "")}</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 0; color: #1d2433; background: #f6f7f9; }
  header { background: #1d2433; color: #fff; padding: 10px 18px; display: flex; gap: 18px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  #live { font-size: 12px; opacity: 0.8; }
  main { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; padding: 16px; }
  section { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 10px 14px; overflow: auto; }
  h2 { font-size: 15px; margin: 4px 0 10px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #eef0f3; font-size: 13px; vertical-align: top; }
  .bar { background: #e6e9ee; height: 8px; width: 120px; border-radius: 4px; overflow: hidden; display: inline-block; vertical-align: middle; }
  .bar > div { background: #3b7ddd; height: 100%; }
  .state-running { color: #1a7f37; } .state-pending { color: #9a6700; } .state-dead { color: #8c959f; } .state-terminating { color: #bc4c00; }
  .health-unhealthy { color: #cf222e; font-weight: 600; }
  .why { color: #9a6700; font-size: 12px; white-space: pre-wrap; }
  .job { cursor: pointer; } .job:hover { background: #f0f4fa; }
  pre { background: #f6f8fa; padding: 8px; max-height: 240px; overflow: auto; font-size: 12px; }
  #detail, #cells { grid-column: 1 / span 2; }
  .health-down, .health-unreachable { color: #cf222e; font-weight: 600; } .health-healthy { color: #1a7f37; }
  .federated { font-size: 11px; background: #e8effa; color: #24508f; border-radius: 3px; padding: 0 4px; margin-left: 4px; }
</style>
</head>
<body>
<header><h1>Corral · <span id="cell"></span></h1><span id="live">connecting…</span></header>
<main>
  <section id="cells" hidden><h2>Cells</h2><table><thead><tr><th>cell</th><th>health</th><th>leader</th><th>machines up</th><th>cpu</th><th>ram</th><th>running</th><th>pending</th></tr></thead><tbody></tbody></table></section>
  <section id="machines"><h2>Machines</h2><table><thead><tr><th>cell</th><th>machine</th><th>state</th><th>cpu</th><th>ram</th><th>tasks</th></tr></thead><tbody></tbody></table></section>
  <section id="jobs"><h2>Jobs</h2><table><thead><tr><th>job</th><th>task</th><th>state</th><th>cell</th><th>machine</th><th>health</th><th>reason</th></tr></thead><tbody></tbody></table><p id="pager"><button id="first-page" hidden>first page</button> <button id="next-page" hidden>next page</button></p></section>
  <section id="detail"><h2 id="detail-title">Select a job</h2><div id="why" class="why"></div><h3>Events</h3><table id="events"><tbody></tbody></table><h3 id="logs-title">Logs</h3><pre id="logs"></pre></section>
</main>
<script>
const CELLS = ${JSON.stringify(cells)};
const FEDERATED = ${JSON.stringify(federated)};
document.getElementById("cell").textContent = FEDERATED ? "cells " + CELLS.join(", ") : "cell " + CELLS[0];
document.getElementById("cells").hidden = !FEDERATED;
let selected;
let selectedIsFederated = false;
/** the list is paged by the gateway: where this page starts (undefined: the first), and where the next would */
let pageAt;
let nextPage;
/** whose logs show: a task of the selected job (for a federated job, of its member job in the task's cell) */
let logsOf;
const el = (tag, text, className) => { const node = document.createElement(tag); if (text !== undefined) node.textContent = String(text); if (className) node.className = className; return node; };
const row = (cells) => { const tr = document.createElement("tr"); for (const cell of cells) { const td = document.createElement("td"); if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell ?? ""; tr.appendChild(td); } return tr; };
const bar = (used, total) => { const outer = el("span", undefined, "bar"); const inner = el("div"); inner.style.width = (total > 0 ? Math.min(100, 100 * used / total) : 0) + "%"; outer.appendChild(inner); const wrap = el("span"); wrap.append(outer, " " + Math.round(100 * used / Math.max(total, 1e-9)) + "%"); return wrap; };
async function json(path) { const response = await fetch(path); if (!response.ok) throw new Error(path + ": " + response.status); return response.json(); }

/**
 * Every cell's machines; a cell that does not answer shows as one row saying so, not as an
 * error. A cell the gateway finds unhealthy is not asked: the gateway would wait for its
 * leader, and hold up the whole page while the cell is out.
 */
async function machinesOfEveryCell(summaries) {
  const health = new Map((summaries?.cells ?? []).map((cell) => [cell.cell, cell.health]));
  return Promise.all(CELLS.map(async (cell) => {
    if (FEDERATED && health.get(cell) !== "healthy") return { cell, error: health.get(cell) ?? "unknown" };
    try { return { cell, nodes: (await json("/v1/nodes" + (FEDERATED ? "?cell=" + encodeURIComponent(cell) : ""))).nodes }; }
    catch (error) { return { cell, error: error.message }; }
  }));
}

async function refresh() {
  const [listed, summaries] = await Promise.all([json("/v1/jobs" + (pageAt === undefined ? "" : "?continue=" + encodeURIComponent(pageAt))), FEDERATED ? json("/v1/cells") : undefined]);
  const perCell = await machinesOfEveryCell(summaries);
  if (summaries !== undefined) {
    document.querySelector("#cells tbody").replaceChildren(...summaries.cells.map((cell) => {
      const tr = row([cell.cell, el("span", cell.health, "health-" + cell.health), cell.leader === undefined ? "" : cell.leader + " (epoch " + cell.epoch + ")", cell.machines.up + " of " + cell.machines.total, bar(cell.used.cpu, cell.capacity.cpu), bar(cell.used.ram, cell.capacity.ram), String(cell.tasks.running), String(cell.tasks.pending)]);
      tr.dataset.cell = cell.cell; tr.dataset.health = cell.health;
      return tr;
    }));
  }
  const machineRows = [];
  for (const { cell, nodes, error } of perCell) {
    if (nodes === undefined) { machineRows.push(row([cell, "", "not answering: " + error, "", "", ""])); continue; }
    for (const node of nodes) {
      const tr = row([cell, node.name, node.state, bar(node.used.cpu, node.capacity.cpu), bar(node.used.ram, node.capacity.ram), String(node.tasks)]);
      tr.dataset.cell = cell; tr.dataset.machine = node.name;
      machineRows.push(tr);
    }
  }
  document.querySelector("#machines tbody").replaceChildren(...machineRows);
  // A federated job is shown once, with its tasks in every cell; a cell's own jobs as they are.
  const shown = [
    ...(listed.federated ?? []).map((job) => ({ job, federated: true })),
    ...listed.jobs.map((job) => ({ job, federated: false })),
  ].filter(({ job }) => !job.killed || job.summary.dead < job.replicas);
  const rows = [];
  for (const { job, federated } of shown) {
    job.tasks.forEach((task, position) => {
      const name = el("span", position === 0 ? job.id : "");
      if (position === 0 && federated) name.appendChild(el("span", "federated " + job.policy, "federated"));
      const tr = row([name, String(task.index), el("span", task.state, "state-" + task.state), task.cell ?? job.cell ?? "", task.node ?? "", el("span", task.health ?? "", "health-" + (task.health ?? "")), task.reason ?? ""]);
      tr.className = "job"; tr.dataset.job = job.id; tr.dataset.state = task.state; tr.dataset.cell = task.cell ?? job.cell ?? "";
      // A task's id is <index>.<its job's id>, in its own cell for a federated job's member.
      const owner = task.id.slice(task.id.indexOf(".") + 1);
      tr.addEventListener("click", () => { selected = job.id; selectedIsFederated = federated; logsOf = { job: owner, index: task.index, id: task.id }; void refreshDetail(); });
      rows.push(tr);
    });
    // A list holds the first tasks of a big job; the job's own page (click it) has the rest.
    if (job.moreTasksFrom !== undefined) {
      const total = Object.values(job.summary).reduce((sum, count) => sum + count, 0);
      const more = row(["", "… " + (total - job.tasks.length) + " more tasks", "", "", "", "", ""]);
      more.className = "more"; more.dataset.job = job.id;
      rows.push(more);
    }
  }
  document.querySelector("#jobs tbody").replaceChildren(...rows);
  nextPage = listed.continue;
  document.getElementById("next-page").hidden = nextPage === undefined;
  document.getElementById("first-page").hidden = pageAt === undefined;
  if (selected === undefined) {
    const pending = listed.jobs.find((job) => job.summary.pending > 0);
    if (pending) { selected = pending.id; logsOf = { job: pending.id, index: 0, id: "0." + pending.id }; }
  }
  await refreshDetail();
}

async function refreshDetail() {
  if (selected === undefined) return;
  document.getElementById("detail-title").textContent = selected;
  const job = (await json("/v1/jobs/" + encodeURIComponent(selected))).job;
  const why = document.getElementById("why");
  if (selectedIsFederated) {
    // A federated job's why and logs are its members', each in its own cell: say where it stands in each.
    why.textContent = "Federated (" + job.policy + "): " + job.cells.map((cell) => cell.cell + ": " + (cell.reachable ? cell.running + " of " + cell.assigned + " running" : "unreachable") + (cell.refused ? " (refused: " + cell.refused + ")" : "")).join("; ");
    const { events } = await json("/v1/jobs/" + encodeURIComponent(selected) + "/events");
    document.querySelector("#events tbody").replaceChildren(...events.slice(-30).map((event) => row([new Date(event.at).toISOString().slice(11, 19), "", event.kind, event.text])));
    await refreshLogs();
    return;
  }
  if (job.summary.pending > 0) {
    const answer = await json("/v1/jobs/" + encodeURIComponent(selected) + "/why");
    why.textContent = "Why pending: " + answer.fitting + " of " + answer.machines + " " + (answer.over ?? "machines") + " can take a task now. " +
      answer.refusals.map((r) => r.machines + " " + (answer.over ?? "machines") + ": " + r.reason).join("; ") + (answer.advice.length ? " → " + answer.advice.join("; ") : "");
  } else why.textContent = "";
  const { events } = await json("/v1/jobs/" + encodeURIComponent(selected) + "/events");
  document.querySelector("#events tbody").replaceChildren(...events.slice(-30).map((event) => row([new Date(event.at).toISOString().slice(11, 19), event.task === undefined ? "" : String(event.task), event.kind, event.text])));
  await refreshLogs();
}

async function refreshLogs() {
  if (logsOf === undefined) return;
  document.getElementById("logs-title").textContent = "Logs of " + logsOf.id;
  const logs = await fetch("/v1/jobs/" + encodeURIComponent(logsOf.job) + "/tasks/" + logsOf.index + "/logs?tail=4096");
  document.getElementById("logs").textContent = logs.ok ? await logs.text() : "No logs: " + (await logs.json().then((body) => body.error.message, () => "the gateway answered " + logs.status));
}

// Throttled, not debounced: a busy cell sends batches without pause, and the page must still move.
let timer; let refreshing = false; let again = false;
const soon = () => {
  if (timer !== undefined) return;
  timer = setTimeout(async () => {
    timer = undefined;
    if (refreshing) { again = true; return; }
    refreshing = true;
    try { await refresh(); } catch (error) { show(error); } finally { refreshing = false; }
    if (again) { again = false; soon(); }
  }, 150);
};
const show = (error) => { document.getElementById("live").textContent = "error: " + error.message; };
// The gateway's stream carries every cell's task changes.
const stream = new EventSource("/v1/stream");
stream.addEventListener("open", () => { document.getElementById("live").textContent = "live"; });
stream.addEventListener("error", () => { document.getElementById("live").textContent = "reconnecting…"; });
stream.addEventListener("tasks", soon);
document.getElementById("next-page").addEventListener("click", () => { if (nextPage !== undefined) { pageAt = nextPage; soon(); } });
document.getElementById("first-page").addEventListener("click", () => { pageAt = undefined; soon(); });
void refresh().catch(show);
</script>
</body>
</html>`;
}
