import test from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { isSameProcessAlive } from "@corral/kit";
import { readCellFile, stopLocalCell, waitUntil, type CellFile, type StartedProcess } from "../index.js";

const STARTER = fileURLToPath(new URL("./fixtures/cell-starter.ts", import.meta.url));

/** Every live process whose process group is `pgid` (a service and whatever it started). */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z" && Number(fields[2]) === pgid) members.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return members;
}

/** Whether any of the cell's processes, or anything in their process groups, still runs. */
function anyAlive(processes: readonly StartedProcess[]): boolean {
  return processes.some((p) => isSameProcessAlive(p) || groupMembers(p.pid).length > 0);
}

/** Runs the fixture starter; resolves with its output lines once it says "ready". */
async function startStarter(t: { teardown: (fn: () => void) => void }, args: string[]): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(process.execPath, ["--import", "tsx", STARTER, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  // A test that fails before it kills its starter must not leave it running: ava would wait for it forever.
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const exited = (code: number | null) => reject(new Error(`the starter exited (${code}) before it was ready`));
    child.once("exit", exited);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      if (line !== "ready") return;
      child.off("exit", exited);
      resolve();
    });
  });
  return { child, lines };
}

function cellIn(dir: string): CellFile {
  const cell = readCellFile(dir);
  if (cell === undefined) throw new Error(`no cell file in ${dir}`);
  return cell;
}

const fresh = (label: string) => mkdtempSync(join(tmpdir(), `corral-guard-${label}-`));

test("a cell tied to its starter is stopped when the starter is SIGKILLed; processes started the `cell up` way outlive it", async (t) => {
  const guarded = fresh("cell");
  const detached = fresh("detached");
  t.teardown(async () => {
    await stopLocalCell(guarded, 1000);
    await stopLocalCell(detached, 1000);
  });
  const { child } = await startStarter(t, ["cell", guarded, detached]);
  const cell = cellIn(guarded);
  const survivors = cellIn(detached).processes;
  t.deepEqual(cell.processes.map((p) => p.role).sort(), ["borglet", "gateway", "master", "nats", "redis", "scheduler"]);
  t.true(cell.processes.every(isSameProcessAlive), "the whole cell runs while its starter does");

  child.kill("SIGKILL");
  await waitUntil("every process of the tied cell, and of their process groups, to be gone", () => !anyAlive(cell.processes), 90_000, 200);
  t.true(survivors.every(isSameProcessAlive), "processes not tied to the starter still run once the tied cell is gone");
  // The processes are gone a moment before the watchdog has said so, and removed the cell file.
  const said = /gone without stopping it[\s\S]*stopped the cell's 6 processes/;
  await waitUntil("the watchdog to say it stopped the cell", () => said.test(readFileSync(join(guarded, "logs", "watchdog.log"), "utf8")), 30_000, 200).catch(() => {});
  t.regex(readFileSync(join(guarded, "logs", "watchdog.log"), "utf8"), said);
  await waitUntil("the watchdog to remove the cell file", () => readCellFile(guarded) === undefined, 30_000, 200).catch(() => {});
  t.is(readCellFile(guarded), undefined, "the teardown removes the cell file, as cell down does");
});

test("processes tied to their starter are stopped when the starter dies of SIGTERM", async (t) => {
  const guarded = fresh("sigterm");
  t.teardown(() => stopLocalCell(guarded, 1000));
  const { child } = await startStarter(t, ["processes", guarded]);
  const processes = cellIn(guarded).processes;
  t.is(processes.length, 2);
  t.true(processes.every((p) => groupMembers(p.pid).length > 0));
  // On a busy machine the shell may not have started its children yet.
  const sleeper = processes.find((p) => p.name === "sleeper")!;
  await waitUntil("the shell and its own child to share its group", () => groupMembers(sleeper.pid).length >= 2, 30_000, 100);

  child.kill("SIGTERM");
  await waitUntil("the tied processes and their groups to be gone", () => !anyAlive(processes), 60_000, 200);
  t.pass();
});

test("a starter that stops its cell itself releases the watchdog, which exits without a teardown", async (t) => {
  const guarded = fresh("release");
  t.teardown(() => stopLocalCell(guarded, 1000));
  const { child, lines } = await startStarter(t, ["release", guarded]);
  const watchdog = JSON.parse(lines.find((line) => line.startsWith("watchdog "))!.slice("watchdog ".length)) as Pick<StartedProcess, "pid" | "startTime" | "log">;
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", resolve)));
  t.is(code, 0, "the starter exits by itself: the pipe to its watchdog does not hold it");
  await waitUntil("the released watchdog to exit", () => !isSameProcessAlive(watchdog), 30_000, 100);
  t.is(readFileSync(watchdog.log, "utf8"), "", "no teardown ran");
  t.false(anyAlive(cellIn(guarded).processes));
});
