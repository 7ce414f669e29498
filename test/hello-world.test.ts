import test from "ava";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "@corral/launcher";
import { eventually, processExists, testDir } from "@corral/testkit";

const run = promisify(execFile);
const CLI = join(REPO_ROOT, "services", "cli", "bin", "corral.js");
const dir = testDir("hello-world");

async function corral(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, "--dir", dir, ...args], { cwd: REPO_ROOT, timeout: 120_000 });
  return stdout;
}

interface PsJson {
  jobs: { name: string; user: string; cell: string; tasks: { index: number; state: string; node: string; host: string; port: number; pid: number; reason?: string }[] }[];
}

test.after.always(async () => {
  await corral("cell", "down").catch(() => {});
});

test("the README flow: cell up, hello_world with 5 replicas answering, kill, cell down", async (t) => {
  const gateway = (await corral("cell", "up", "--borglets", "3", "--admin", "alice")).trim();
  t.regex(gateway, /^http:\/\/127\.0\.0\.1:\d+$/);
  const status = JSON.parse(await corral("cell", "status", "--json")) as { gateway: string; ui: string; dns: string; metrics: string[]; processes: { role: string; pid: number; alive: boolean }[] };
  t.is(status.gateway, gateway);
  t.is((await fetch(status.ui)).status, 200, "the UI's URL answers");
  t.regex(status.dns, /^127\.0\.0\.1:\d+$/);
  // One metrics URL per service (5 masters, a scheduler, 3 borglets, the gateway), each answering.
  t.is(status.metrics.length, status.processes.filter((p) => p.role !== "nats" && p.role !== "redis").length);
  for (const url of status.metrics) t.regex(await (await fetch(url)).text(), /^# HELP /m, url);
  t.is(status.processes.filter((p) => p.role === "master").length, 5, "cell up starts five masters");
  t.true(status.processes.every((p) => p.alive));

  const nodes = JSON.parse(await corral("nodes", "--json")) as { nodes: { name: string; state: string; host: string; pid: number }[] };
  t.is(nodes.nodes.length, 3);
  for (const node of nodes.nodes) {
    t.is(node.state, "up");
    t.true(processExists(node.pid), `borglet ${node.name} runs as pid ${node.pid}`);
  }

  await corral("up", join(REPO_ROOT, "deploy", "examples", "hello_world.borg"), "--wait", "--json");
  const ps = JSON.parse(await corral("ps", "--json")) as PsJson;
  t.is(ps.jobs.length, 1);
  const job = ps.jobs[0]!;
  t.is(job.name, "hello_world");
  t.is(job.user, "alice");
  t.is(job.cell, "local");
  t.is(job.tasks.length, 5);
  const pids: number[] = [];
  for (const task of job.tasks) {
    t.is(task.state, "running");
    const answer = await (await fetch(`http://${task.host}:${task.port}/`)).text();
    t.is(answer.trim(), `${task.index}.hello_world.alice.local`, "each task answers with its own name");
    t.true(processExists(task.pid));
    pids.push(task.pid);
  }
  t.is(new Set(job.tasks.map((task) => `${task.node}:${task.port}`)).size, 5, "no two tasks share a port on a machine");

  const logs = await corral("logs", "hello_world", "0");
  t.regex(logs, /0\.hello_world\.alice\.local listening/);

  await corral("kill", "hello_world", "--wait", "--json");
  await eventually("every task process gone", () => (pids.every((pid) => !processExists(pid)) ? true : undefined), 15_000);
  const after = JSON.parse(await corral("ps", "hello_world", "--json")) as PsJson;
  t.true(after.jobs[0]!.tasks.every((task) => task.state === "dead" && task.reason === "killed by user (exited with code 0)"));

  const cellPids = status.processes.map((p) => p.pid);
  await corral("cell", "down");
  t.true(cellPids.every((pid) => !processExists(pid)), "cell down stops every process it started");
  t.throws(() => readFileSync(join(dir, "cell.json")), undefined, "the cell file is gone");
});

test("cell up without nats-server says how to install it and exits non-zero", async (t) => {
  const error = await t.throwsAsync(
    run(process.execPath, [CLI, "--dir", testDir("no-nats"), "cell", "up"], {
      cwd: REPO_ROOT,
      env: { ...process.env, CORRAL_EXECUTABLE_PATH: testDir("empty-path") },
    }),
  );
  const failure = error as Error & { code?: number; stderr?: string };
  t.is(failure.code, 1);
  t.regex(failure.stderr ?? "", /nats-server was not found/);
  t.regex(failure.stderr ?? "", /apt-get install nats-server/);
});
