// @ts-check
// The borglet's spawn helper: a bare node process (no TypeScript loader, no libraries) that
// starts task processes for its borglet and reaps them.
//
// Why a separate process: fork() copies the caller's page tables, so a spawn costs time in
// proportion to the caller's resident memory. From the borglet (about 170 MB with its
// loader, NATS and schemas) one spawn costs about 5 ms of cpu and blocks its event loop
// until the child has exec'd; from this process (about 40 MB) about 1 ms, and the
// borglet's loop, which heartbeats, never waits on a fork. Exits are reaped here too, with
// the task records written and removed here, so none of that sync file work is on the
// borglet's loop either.
//
// Plain JavaScript on purpose: run through the TypeScript loader it would be twice the size.
// Protocol (spawner.ts is the other end), one JSON object per line:
//   in:  {"op":"spawn","id":N,"file","args","env","stdout","stderr","record"?:{"path","fields"},"cwd"?,"uid"?,"gid"?,"sandbox"?,"captureStderr"?,
//         "pidsCgroup"?:{"dir","hierarchy","controller","pidsMax"}}
//   out: {"op":"spawned","id":N,"pid":P} | {"op":"failed","id":N,"error"} | {"op":"exited","id":N,"code","signal","stderr"?}
// With captureStderr (the borglet's own commands: mount, umount), the first STDERR_KEPT
// characters of stderr come back with the exit instead of going to the stderr file.
// A record's fields are written to its path with the task's pid and start time added, and
// removed at the exit if it still names that pid (a newer incarnation may have replaced it).
// A sandbox (with uid and gid) is made afresh for the run, theirs alone (0700), and is its
// working directory: that file work is done here too, not on the borglet's loop.
// A pids cgroup is made with its limit, and the task is forked inside it: the helper steps
// into the cgroup, spawns (the fork happens within spawn()), and steps back to its own. So
// the task is limited from its first instruction; moving it in after the fork would let
// whatever it forked first escape.
import { spawn } from "node:child_process";
import { chownSync, closeSync, fchownSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

const STDERR_KEPT = 4096;

/** @param {unknown} message */
function send(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Field 22 of /proc/PID/stat: with the pid, it names this process and not a later one with its pid. @param {number} pid */
function startTime(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
  } catch {
    return 0;
  }
}

/** @type {Map<string, string>} */
const ownCgroups = new Map();

/**
 * This process's own cgroup in the hierarchy of `controller` ("" for v2), from /proc/self/cgroup;
 * read once per controller, since the helper always returns to it.
 * @param {string} controller
 */
function ownCgroup(controller) {
  const known = ownCgroups.get(controller);
  if (known !== undefined) return known;
  const found = readOwnCgroup(controller);
  ownCgroups.set(controller, found);
  return found;
}

/** @param {string} controller */
function readOwnCgroup(controller) {
  for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const [, controllers, path] = line.split(":");
    if (controllers !== undefined && path !== undefined && controllers.split(",").includes(controller)) return path;
    if (controller === "" && controllers === "" && path !== undefined) return path;
  }
  throw new Error(`the spawn helper is in no ${controller === "" ? "cgroup v2" : controller} cgroup`);
}

/**
 * Makes the cgroup with its limit and runs `fork` with this process inside it, so what
 * `fork` starts begins there; then this process goes back to its own cgroup.
 * @template T @param {{ dir: string; hierarchy: string; controller: string; pidsMax: number }} cgroup @param {() => T} fork @returns {T}
 */
function forkInside(cgroup, fork) {
  mkdirSync(cgroup.dir, { recursive: true });
  writeFileSync(join(cgroup.dir, "pids.max"), String(cgroup.pidsMax));
  const home = join(cgroup.hierarchy, ownCgroup(cgroup.controller), "cgroup.procs");
  writeFileSync(join(cgroup.dir, "cgroup.procs"), String(process.pid));
  try {
    return fork();
  } finally {
    writeFileSync(home, String(process.pid));
  }
}

/** @param {string} path @param {number} pid */
function removeRecordIfOurs(path, pid) {
  try {
    if (JSON.parse(readFileSync(path, "utf8")).pid === pid) rmSync(path, { force: true });
  } catch {
    // already gone
  }
}

/**
 * @param {{ id: number; file: string; args: string[]; env?: Record<string, string>; stdout: string; stderr: string; record?: { path: string; fields: Record<string, unknown> }; cwd?: string; uid?: number; gid?: number; sandbox?: string; captureStderr?: boolean; pidsCgroup?: { dir: string; hierarchy: string; controller: string; pidsMax: number } }} request
 */
function start(request) {
  let stdout;
  let stderr;
  let child;
  let said = "";
  try {
    // A task's output is its owner's to read, and the borglet's (root): nobody else's.
    stdout = openSync(request.stdout, "a", 0o600);
    stderr = request.captureStderr === true ? "pipe" : openSync(request.stderr, "a", 0o600);
    if (typeof request.uid === "number" && typeof request.gid === "number") {
      fchownSync(stdout, request.uid, request.gid);
      if (typeof stderr === "number") fchownSync(stderr, request.uid, request.gid);
      if (typeof request.sandbox === "string") {
        rmSync(request.sandbox, { recursive: true, force: true });
        mkdirSync(request.sandbox, { recursive: true, mode: 0o700 });
        chownSync(request.sandbox, request.uid, request.gid);
      }
    }
    // Its own process group: it outlives the borglet, and a stop reaches all it forked.
    const options = {
      detached: true,
      stdio: /** @type {["ignore", number, number | "pipe"]} */ (["ignore", stdout, stderr]),
      ...(request.env === undefined ? {} : { env: request.env }),
      ...(typeof request.sandbox === "string" ? { cwd: request.sandbox } : typeof request.cwd === "string" ? { cwd: request.cwd } : {}),
      ...(typeof request.uid === "number" && typeof request.gid === "number" ? { uid: request.uid, gid: request.gid } : {}),
    };
    const fork = () => spawn(request.file, request.args, options);
    child = request.pidsCgroup === undefined ? fork() : forkInside(request.pidsCgroup, fork);
    child.stderr?.setEncoding("utf8").on("data", (/** @type {string} */ chunk) => {
      if (said.length < STDERR_KEPT) said = (said + chunk).slice(0, STDERR_KEPT);
    });
  } catch (error) {
    send({ op: "failed", id: request.id, error: /** @type {Error} */ (error).message });
    return;
  } finally {
    if (stdout !== undefined) closeSync(stdout);
    if (typeof stderr === "number") closeSync(stderr);
  }
  const pid = child.pid;
  if (pid === undefined) {
    // ENOENT, EACCES, EMFILE: node reports them as an 'error' event on the next tick.
    child.once("error", (error) => send({ op: "failed", id: request.id, error: error.message }));
    return;
  }
  child.once("error", () => {}); // a failed kill() later must not take the helper down
  if (request.record !== undefined) {
    try {
      writeFileSync(request.record.path, JSON.stringify({ ...request.record.fields, pid, startTime: startTime(pid) }));
    } catch (error) {
      process.stderr.write(`spawn helper: could not write ${request.record.path}: ${/** @type {Error} */ (error).message}\n`);
    }
  }
  send({ op: "spawned", id: request.id, pid });
  // "close", not "exit", when stderr is captured: only then has all it said been read.
  child.once(request.captureStderr === true ? "close" : "exit", (code, signal) => {
    if (request.record !== undefined) removeRecordIfOurs(request.record.path, pid);
    send({ op: "exited", id: request.id, code, signal, ...(request.captureStderr === true ? { stderr: said } : {}) });
  });
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  /** @type {any} */
  let request;
  try {
    request = JSON.parse(line);
  } catch {
    process.stderr.write(`spawn helper: not JSON: ${line.slice(0, 200)}\n`);
    return;
  }
  if (request?.op === "spawn" && typeof request.id === "number" && typeof request.file === "string" && Array.isArray(request.args)) start(request);
  else process.stderr.write(`spawn helper: refused request: ${line.slice(0, 200)}\n`);
});
// The borglet is gone: its tasks run on (their records let the next borglet adopt them).
lines.on("close", () => process.exit(0));
