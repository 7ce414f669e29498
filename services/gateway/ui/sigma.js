// @ts-check
/**
 * Sigma, the cell's web UI (Borg's Sigma): machines with usage bars, jobs and their tasks
 * with state, reason and health, why a job is pending, a job's events and a task's logs.
 * Behind a federation's gateway it shows every cell: their health and usage, the machines
 * of each, and federated jobs with each task's cell. Plain DOM code over the gateway's own
 * HTTP API, served as is (no build step) and type-checked from its JSDoc (ui/tsconfig.json);
 * it refreshes when the gateway's event stream (SSE) says something changed. Text is only
 * ever set with textContent, never parsed as HTML.
 */

/** @import { ApiErrorBody, CellSummary, FederatedJobView, HistoryEntry, JobView, NodeView, TaskView, WhyPending } from "@corral/contracts" */
/** @import { UiConfig } from "../src/ui/ui-config.js" */

/**
 * The gateway's answers, as far as the page reads them.
 * @typedef {{ jobs: JobView[], federated?: FederatedJobView[], continue?: string }} JobList
 * @typedef {{ cells: CellSummary[] }} CellList
 * @typedef {Pick<HistoryEntry, "at" | "task" | "text"> & { kind: string }} JobEvent a federated job's events are of kind "federation"
 * @typedef {{ cell: string, nodes?: NodeView[], error?: string }} CellMachines
 * @typedef {TaskView & { cell?: string }} ShownTask a federated job's tasks say which cell each is in
 */

// ---- the page's elements ------------------------------------------------------------

/**
 * An element index.html must have: a missing one is a bug in the page, said as such.
 * @param {string} id
 * @returns {HTMLElement}
 */
function byId(id) {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found;
}

/**
 * @param {string} selector
 * @returns {Element}
 */
function one(selector) {
  const found = document.querySelector(selector);
  if (found === null) throw new Error(`the page has no ${selector}`);
  return found;
}

/**
 * @param {string} tag
 * @param {unknown} [text]
 * @param {string} [className]
 * @returns {HTMLElement}
 */
function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

/**
 * @param {(Node | string | undefined)[]} cells
 * @returns {HTMLTableRowElement}
 */
function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.appendChild(cell);
    else td.textContent = cell ?? "";
    tr.appendChild(td);
  }
  return tr;
}

/**
 * @param {number} used
 * @param {number} total
 * @returns {HTMLElement}
 */
function bar(used, total) {
  const outer = el("span", undefined, "bar");
  const inner = el("div");
  inner.style.width = (total > 0 ? Math.min(100, (100 * used) / total) : 0) + "%";
  outer.appendChild(inner);
  const wrap = el("span");
  wrap.append(outer, " " + Math.round((100 * used) / Math.max(total, 1e-9)) + "%");
  return wrap;
}

/** @param {unknown} error */
const messageOf = (error) => (error instanceof Error ? error.message : String(error));

/** @param {unknown} error */
const show = (error) => {
  byId("live").textContent = "error: " + messageOf(error);
};

// ---- signing in ---------------------------------------------------------------------

// The token lives in this tab's session storage: it goes with the tab, and no cookie carries
// it, so another site's page cannot make the browser use it.
const TOKEN_KEY = "corral-token";
const tokenNow = () => sessionStorage.getItem(TOKEN_KEY);
/** Whoever waits for a token: the stream and a refresh may both. @type {(() => void)[]} */
const waitingForToken = [];
const signedIn = () => waitingForToken.splice(0).forEach((wake) => wake());
/** Resolves once there is a token to try. */
const tokenReady = () => (tokenNow() !== null ? Promise.resolve() : new Promise((resolve) => void waitingForToken.push(() => resolve(undefined))));

/** @param {string} why */
function askForToken(why) {
  sessionStorage.removeItem(TOKEN_KEY);
  byId("sign-in-why").textContent = why;
  byId("sign-in").hidden = false;
  byId("live").textContent = "signed out";
}

byId("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (byId("token"));
  if (input.value.trim() === "") return;
  sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  input.value = "";
  byId("sign-in").hidden = true;
  signedIn();
  soon();
});

// ---- the gateway's API --------------------------------------------------------------

/**
 * A request with the token; a 401 asks for another.
 * @param {string} path
 * @returns {Promise<Response>}
 */
async function call(path) {
  await tokenReady();
  const token = tokenNow();
  const response = await fetch(path, { headers: { authorization: "Bearer " + token } });
  if (response.status === 401) {
    const message = await response.json().then(
      /** @param {ApiErrorBody} body */ (body) => body.error.message,
      () => "the gateway refused the token",
    );
    // Only the token refused is dropped: another may have been entered since this request went out.
    if (tokenNow() === token) askForToken(message);
    throw new Error("signed out: " + message);
  }
  return response;
}

/**
 * @param {string} path
 * @returns {Promise<unknown>}
 */
async function json(path) {
  const response = await call(path);
  if (!response.ok) throw new Error(path + ": " + response.status);
  return response.json();
}

/** @param {string} job */
const jobPath = (job) => "/v1/jobs/" + encodeURIComponent(job);

// Each cast is where the page trusts the gateway to answer as its routes are typed.
const api = {
  config: async () => /** @type {UiConfig} */ (await (await fetch("/ui/config.json")).json()),
  /** @param {string | undefined} from a page token from the last answer; undefined: the first page */
  jobs: async (from) => /** @type {JobList} */ (await json("/v1/jobs" + (from === undefined ? "" : "?continue=" + encodeURIComponent(from)))),
  cells: async () => /** @type {CellList} */ (await json("/v1/cells")),
  /** @param {string | undefined} cell undefined: the gateway's only cell */
  nodes: async (cell) => /** @type {{ nodes: NodeView[] }} */ (await json("/v1/nodes" + (cell === undefined ? "" : "?cell=" + encodeURIComponent(cell)))).nodes,
  /** @param {string} job */
  job: async (job) => /** @type {{ job: JobView | FederatedJobView }} */ (await json(jobPath(job))).job,
  /** @param {string} job */
  why: async (job) => /** @type {WhyPending} */ (await json(jobPath(job) + "/why")),
  /** @param {string} job */
  events: async (job) => /** @type {{ events: JobEvent[] }} */ (await json(jobPath(job) + "/events")).events,
};

// ---- what the page shows ------------------------------------------------------------

// Without the gateway's cells the page has nothing to ask for: it says so, and goes no further.
const config = await api.config().catch((error) => {
  show(error);
  throw error;
});
const CELLS = config.cells;
const FEDERATED = config.federated;
document.title = "Corral · " + (FEDERATED ? CELLS.join(", ") : config.home);
byId("cell").textContent = FEDERATED ? "cells " + CELLS.join(", ") : "cell " + config.home;
byId("cells").hidden = !FEDERATED;

/** @type {string | undefined} the job whose detail shows */
let selected;
/**
 * The list is paged by the gateway: where this page starts (undefined: the first), and where the next would.
 * @type {string | undefined}
 */
let pageAt;
/** @type {string | undefined} */
let nextPage;
/**
 * Whose logs show: a task of the selected job (for a federated job, of its member job in the task's cell).
 * @type {{ job: string, index: number, id: string } | undefined}
 */
let logsOf;

/**
 * Every cell's machines; a cell that does not answer shows as one row saying so, not as an
 * error. A cell the gateway finds unhealthy is not asked: the gateway would wait for its
 * leader, and hold up the whole page while the cell is out.
 * @param {CellList | undefined} summaries
 * @returns {Promise<CellMachines[]>}
 */
async function machinesOfEveryCell(summaries) {
  const health = new Map((summaries?.cells ?? []).map((cell) => [cell.cell, cell.health]));
  return Promise.all(
    CELLS.map(async (cell) => {
      if (FEDERATED && health.get(cell) !== "healthy") return { cell, error: health.get(cell) ?? "unknown" };
      try {
        return { cell, nodes: await api.nodes(FEDERATED ? cell : undefined) };
      } catch (error) {
        return { cell, error: messageOf(error) };
      }
    }),
  );
}

/** @param {CellList} summaries */
function showCells(summaries) {
  one("#cells tbody").replaceChildren(
    ...summaries.cells.map((cell) => {
      const tr = row([
        cell.cell,
        el("span", cell.health, "health-" + cell.health),
        cell.leader === undefined ? "" : cell.leader + " (epoch " + cell.epoch + ")",
        cell.machines.up + " of " + cell.machines.total,
        bar(cell.used.cpu, cell.capacity.cpu),
        bar(cell.used.ram, cell.capacity.ram),
        String(cell.tasks.running),
        String(cell.tasks.pending),
      ]);
      tr.dataset.cell = cell.cell;
      tr.dataset.health = cell.health;
      return tr;
    }),
  );
}

/** @param {CellMachines[]} perCell */
function showMachines(perCell) {
  /** @type {HTMLTableRowElement[]} */
  const rows = [];
  for (const { cell, nodes, error } of perCell) {
    if (nodes === undefined) {
      rows.push(row([cell, "", "not answering: " + error, "", "", ""]));
      continue;
    }
    for (const node of nodes) {
      const tr = row([cell, node.name, node.state, bar(node.used.cpu, node.capacity.cpu), bar(node.used.ram, node.capacity.ram), String(node.tasks)]);
      tr.dataset.cell = cell;
      tr.dataset.machine = node.name;
      rows.push(tr);
    }
  }
  one("#machines tbody").replaceChildren(...rows);
}

/**
 * A federated job is shown once, with its tasks in every cell; a cell's own jobs as they are.
 * @param {JobList} listed
 */
function showJobs(listed) {
  const shown = [
    ...(listed.federated ?? []).map((job) => ({ job, federated: true, policy: job.policy, cell: undefined, moreTasksFrom: undefined })),
    ...listed.jobs.map((job) => ({ job, federated: false, policy: undefined, cell: job.cell, moreTasksFrom: job.moreTasksFrom })),
  ].filter(({ job }) => !job.killed || job.summary.dead < job.replicas);
  /** @type {HTMLTableRowElement[]} */
  const rows = [];
  for (const { job, federated, policy, cell, moreTasksFrom } of shown) {
    /** @type {ShownTask[]} */
    const tasks = job.tasks;
    tasks.forEach((task, position) => {
      const name = el("span", position === 0 ? job.id : "");
      if (position === 0 && federated) name.appendChild(el("span", "federated " + policy, "federated"));
      const rollout = "rollout" in job ? job.rollout : undefined;
      if (position === 0 && rollout !== undefined && rollout.state !== "succeeded") name.appendChild(el("span", rolloutText(rollout, job.replicas), "rollout"));
      const tr = row([name, String(task.index), el("span", task.state, "state-" + task.state), task.cell ?? cell ?? "", task.node ?? "", el("span", task.health ?? "", "health-" + (task.health ?? "")), task.reason ?? ""]);
      tr.className = "job";
      tr.dataset.job = job.id;
      tr.dataset.state = task.state;
      tr.dataset.cell = task.cell ?? cell ?? "";
      // A task's id is <index>.<its job's id>, in its own cell for a federated job's member.
      const owner = task.id.slice(task.id.indexOf(".") + 1);
      tr.addEventListener("click", () => {
        selected = job.id;
        logsOf = { job: owner, index: task.index, id: task.id };
        void refreshDetail();
      });
      rows.push(tr);
    });
    // A list holds the first tasks of a big job; the job's own page (click it) has the rest.
    if (moreTasksFrom !== undefined) {
      const total = Object.values(job.summary).reduce((sum, count) => sum + count, 0);
      const more = row(["", "… " + (total - job.tasks.length) + " more tasks", "", "", "", "", ""]);
      more.className = "more";
      more.dataset.job = job.id;
      rows.push(more);
    }
  }
  one("#jobs tbody").replaceChildren(...rows);
}

async function refresh() {
  const [listed, summaries] = await Promise.all([api.jobs(pageAt), FEDERATED ? api.cells() : undefined]);
  const perCell = await machinesOfEveryCell(summaries);
  if (summaries !== undefined) showCells(summaries);
  showMachines(perCell);
  showJobs(listed);
  nextPage = listed.continue;
  byId("next-page").hidden = nextPage === undefined;
  byId("first-page").hidden = pageAt === undefined;
  if (selected === undefined) {
    const pending = listed.jobs.find((job) => job.summary.pending > 0);
    if (pending) {
      selected = pending.id;
      logsOf = { job: pending.id, index: 0, id: "0." + pending.id };
    }
  }
  await refreshDetail();
}

/** @param {JobEvent[]} events */
function showEvents(events) {
  one("#events tbody").replaceChildren(...events.slice(-30).map((event) => row([new Date(event.at).toISOString().slice(11, 19), event.task === undefined ? "" : String(event.task), event.kind, event.text])));
}

/**
 * @param {FederatedJobView} job
 * @returns {string}
 */
function federatedStanding(job) {
  const cells = job.cells.map((cell) => cell.cell + ": " + (cell.reachable ? cell.running + " of " + cell.assigned + " running" : "unreachable") + (cell.refused ? " (refused: " + cell.refused + ")" : ""));
  return "Federated (" + job.policy + "): " + cells.join("; ");
}

/**
 * A rollout in a few words: its revision, its state, and how many of the job's tasks it has done.
 * @param {NonNullable<JobView["rollout"]>} rollout
 * @param {number} replicas
 * @returns {string}
 */
function rolloutText(rollout, replicas) {
  return "revision " + rollout.revision + " " + rollout.state.replace("_", " ") + ": " + (rollout.done ?? 0) + "/" + replicas + " updated" + (rollout.message ? " (" + rollout.message + ")" : "");
}

/**
 * @param {WhyPending} answer
 * @returns {string}
 */
function whyPending(answer) {
  const over = answer.over ?? "machines";
  const refusals = answer.refusals.map((refusal) => refusal.machines + " " + over + ": " + refusal.reason).join("; ");
  return "Why pending: " + answer.fitting + " of " + answer.machines + " " + over + " can take a task now. " + refusals + (answer.advice.length ? " → " + answer.advice.join("; ") : "");
}

async function refreshDetail() {
  if (selected === undefined) return;
  byId("detail-title").textContent = selected;
  const job = await api.job(selected);
  const why = byId("why");
  // A federated job's why and logs are its members', each in its own cell: say where it stands in each.
  if ("federated" in job) why.textContent = federatedStanding(job);
  else if (job.summary.pending > 0) why.textContent = whyPending(await api.why(selected));
  else why.textContent = "";
  showEvents(await api.events(selected));
  await refreshLogs();
}

async function refreshLogs() {
  if (logsOf === undefined) return;
  byId("logs-title").textContent = "Logs of " + logsOf.id;
  const logs = await call(jobPath(logsOf.job) + "/tasks/" + logsOf.index + "/logs?tail=4096");
  // A refusal says why in words (a task not started has no machine, so no logs), never just a status code.
  byId("logs").textContent = logs.ok
    ? await logs.text()
    : "No logs: " +
      (await logs.json().then(
        /** @param {ApiErrorBody} body */ (body) => body.error.message,
        () => "the gateway answered " + logs.status,
      ));
}

// ---- live updates -------------------------------------------------------------------

// Throttled, not debounced: a busy cell sends batches without pause, and the page must still move.
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
let refreshing = false;
let again = false;
const soon = () => {
  if (timer !== undefined) return;
  timer = setTimeout(async () => {
    timer = undefined;
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      await refresh();
    } catch (error) {
      show(error);
    } finally {
      refreshing = false;
    }
    if (again) {
      again = false;
      soon();
    }
  }, 150);
};

/**
 * The gateway's stream carries every cell's task changes as server-sent events. It is read
 * with fetch, not EventSource, which cannot send the token; it reconnects as EventSource would.
 */
async function followStream() {
  for (;;) {
    try {
      const response = await call("/v1/stream");
      if (!response.ok || response.body === null) throw new Error("/v1/stream: " + response.status);
      byId("live").textContent = "live";
      // What changed while the stream was down (or before it first came up) was not announced on it.
      soon();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          if (/^event: tasks$/m.test(buffer.slice(0, end))) soon();
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // said below; the next try waits for a token if there is none
    }
    if (tokenNow() !== null) byId("live").textContent = "reconnecting…";
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
void followStream();
byId("next-page").addEventListener("click", () => {
  if (nextPage !== undefined) {
    pageAt = nextPage;
    soon();
  }
});
byId("first-page").addEventListener("click", () => {
  pageAt = undefined;
  soon();
});
if (tokenNow() === null) askForToken("Every request to this cell needs a token.");
void refresh().catch(show);
