import test from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { isSameProcessAlive } from "@corral/kit";
import { readCellFile, stopLocalCell, waitUntil, type StartedProcess } from "@corral/launcher";

const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

/**
 * Starts a latency run that would go on for hours, and resolves once its cell is fully up
 * (the hollow borglet is in the cell file), with the cell's directory and processes.
 */
async function startLongRun(): Promise<{ run: ChildProcess; dir: string; processes: StartedProcess[]; stderr: string[] }> {
  const out = join(mkdtempSync(join(tmpdir(), "corral-interrupted-")), "run.json");
  const run = spawn(process.execPath, ["--import", "tsx", MAIN, "latency", "--machines", "20", "--samples", "1000000", "--load-jobs-per-s", "0", "--out", out], { stdio: ["ignore", "ignore", "pipe"] });
  const stderr: string[] = [];
  const dir = await new Promise<string>((resolve, reject) => {
    run.once("exit", (code) => reject(new Error(`the run exited (${code}) before its cell started:\n${stderr.join("\n")}`)));
    createInterface({ input: run.stderr! }).on("line", (line) => {
      stderr.push(line);
      const found = /cell directory (\S+)/.exec(line)?.[1];
      if (found !== undefined) resolve(found);
    });
  });
  await waitUntil("the run's cell to be up, hollow borglet and all", () => readCellFile(dir)?.processes.some((p) => p.name === "hollow-0") === true, 120_000, 200);
  return { run, dir, processes: readCellFile(dir)!.processes, stderr };
}

const exitOf = (child: ChildProcess) => new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve({ code: child.exitCode, signal: child.signalCode }) : child.once("exit", (code, signal) => resolve({ code, signal }))));

test.serial("a load run stopped with Ctrl-C stops its cell before it exits", async (t) => {
  const { run, dir, processes, stderr } = await startLongRun();
  t.teardown(() => stopLocalCell(dir, 1000));
  t.true(processes.every(isSameProcessAlive));
  run.kill("SIGINT");
  const { code } = await exitOf(run);
  t.is(code, 130, stderr.join("\n"));
  t.deepEqual(processes.filter(isSameProcessAlive).map((p) => p.name), [], "nothing of the cell is left the moment the run has exited");
  t.true(stderr.some((line) => line.includes("SIGINT: stopping 1 cell")));
  // The run stopped its cell itself, so the watchdog was released and had nothing to do.
  const watchdogLog = join(dir, "logs", "watchdog.log");
  t.true(existsSync(watchdogLog));
  t.is(readFileSync(watchdogLog, "utf8"), "");
});

test.serial("a load run killed outright (SIGKILL) leaves nothing of its cell running", async (t) => {
  const { run, dir, processes } = await startLongRun();
  t.teardown(() => stopLocalCell(dir, 1000));
  run.kill("SIGKILL");
  await exitOf(run);
  await waitUntil("the killed run's cell to be stopped by its watchdog", () => !processes.some(isSameProcessAlive), 90_000, 200);
  t.regex(readFileSync(join(dir, "logs", "watchdog.log"), "utf8"), /gone without stopping it/);
});
