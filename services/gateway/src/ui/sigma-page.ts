/**
 * Sigma, the cell's web UI (Borg's Sigma): machines with usage bars, jobs and their tasks
 * with state, reason and health, why a job is pending, a job's events and a task's logs.
 * One page of plain DOM code over the gateway's own HTTP API; it refreshes when the
 * gateway's event stream (SSE) says something changed. Text is only ever set with
 * textContent, never parsed as HTML.
 */
export function sigmaPage(cell: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Corral · ${cell.replace(/[^a-z0-9_-]/g, "")}</title>
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
  #detail { grid-column: 1 / span 2; }
</style>
</head>
<body>
<header><h1>Corral · cell <span id="cell"></span></h1><span id="live">connecting…</span></header>
<main>
  <section id="machines"><h2>Machines</h2><table><thead><tr><th>machine</th><th>state</th><th>cpu</th><th>ram</th><th>tasks</th></tr></thead><tbody></tbody></table></section>
  <section id="jobs"><h2>Jobs</h2><table><thead><tr><th>job</th><th>task</th><th>state</th><th>machine</th><th>health</th><th>reason</th></tr></thead><tbody></tbody></table></section>
  <section id="detail"><h2 id="detail-title">Select a job</h2><div id="why" class="why"></div><h3>Events</h3><table id="events"><tbody></tbody></table><h3>Logs of task 0</h3><pre id="logs"></pre></section>
</main>
<script>
const CELL = ${JSON.stringify(cell)};
document.getElementById("cell").textContent = CELL;
let selected;
const el = (tag, text, className) => { const node = document.createElement(tag); if (text !== undefined) node.textContent = String(text); if (className) node.className = className; return node; };
const row = (cells) => { const tr = document.createElement("tr"); for (const cell of cells) { const td = document.createElement("td"); if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell ?? ""; tr.appendChild(td); } return tr; };
const bar = (used, total) => { const outer = el("span", undefined, "bar"); const inner = el("div"); inner.style.width = (total > 0 ? Math.min(100, 100 * used / total) : 0) + "%"; outer.appendChild(inner); const wrap = el("span"); wrap.append(outer, " " + Math.round(100 * used / Math.max(total, 1e-9)) + "%"); return wrap; };
async function json(path) { const response = await fetch(path); if (!response.ok) throw new Error(path + ": " + response.status); return response.json(); }

async function refresh() {
  const [{ nodes }, { jobs }] = await Promise.all([json("/v1/nodes"), json("/v1/jobs")]);
  const machines = document.querySelector("#machines tbody");
  machines.replaceChildren(...nodes.map((node) => row([node.name, node.state, bar(node.used.cpu, node.capacity.cpu), bar(node.used.ram, node.capacity.ram), String(node.tasks)])));
  const rows = [];
  for (const job of jobs.filter((job) => !job.killed || job.summary.dead < job.replicas)) {
    for (const task of job.tasks) {
      const name = el("span", task.index === 0 ? job.id : "");
      const tr = row([name, String(task.index), el("span", task.state, "state-" + task.state), task.node ?? "", el("span", task.health ?? "", "health-" + (task.health ?? "")), task.reason ?? ""]);
      tr.className = "job"; tr.dataset.job = job.id; tr.dataset.state = task.state;
      tr.addEventListener("click", () => { selected = job.id; void refreshDetail(); });
      rows.push(tr);
    }
  }
  document.querySelector("#jobs tbody").replaceChildren(...rows);
  if (selected === undefined) { const pending = jobs.find((job) => job.summary.pending > 0); if (pending) selected = pending.id; }
  await refreshDetail();
}

async function refreshDetail() {
  if (selected === undefined) return;
  document.getElementById("detail-title").textContent = selected;
  const job = (await json("/v1/jobs/" + encodeURIComponent(selected))).job;
  const why = document.getElementById("why");
  if (job.summary.pending > 0) {
    const answer = await json("/v1/jobs/" + encodeURIComponent(selected) + "/why");
    why.textContent = "Why pending: " + answer.fitting + " of " + answer.machines + " " + (answer.over ?? "machines") + " can take a task now. " +
      answer.refusals.map((r) => r.machines + " " + (answer.over ?? "machines") + ": " + r.reason).join("; ") + (answer.advice.length ? " → " + answer.advice.join("; ") : "");
  } else why.textContent = "";
  const { events } = await json("/v1/jobs/" + encodeURIComponent(selected) + "/events");
  document.querySelector("#events tbody").replaceChildren(...events.slice(-30).map((event) => row([new Date(event.at).toISOString().slice(11, 19), event.task === undefined ? "" : String(event.task), event.kind, event.text])));
  const logs = await fetch("/v1/jobs/" + encodeURIComponent(selected) + "/tasks/0/logs?tail=4096");
  document.getElementById("logs").textContent = logs.ok ? await logs.text() : "(no logs: " + logs.status + ")";
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
const stream = new EventSource("/v1/stream");
stream.addEventListener("open", () => { document.getElementById("live").textContent = "live"; });
stream.addEventListener("error", () => { document.getElementById("live").textContent = "reconnecting…"; });
stream.addEventListener("tasks", soon);
void refresh().catch(show);
</script>
</body>
</html>`;
}
