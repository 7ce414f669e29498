import test from "ava";
import { spawn } from "node:child_process";
import { readFileSync, utimesSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { freePort, freePortRange, processStartTime, reservationFile, reservePort } from "@corral/kit";

/** A port in the service range that nobody has reserved or bound, found by reserving it. */
async function unusedPort(): Promise<number> {
  return freePort();
}

test("a live process's reservation holds, even past its minute; once it is gone the port can be taken", async (t) => {
  const owner = spawn("sleep", ["60"], { stdio: "ignore" });
  t.teardown(() => owner.kill("SIGKILL"));
  const port = await unusedPort();
  const file = reservationFile(port);
  writeFileSync(file, `${owner.pid} ${processStartTime(owner.pid!)}`);
  t.false(reservePort(port), "fresh and its owner alive");
  const old = new Date(Date.now() - 5 * 60_000);
  utimesSync(file, old, old);
  t.false(reservePort(port), "old, but its owner is alive");
  owner.kill("SIGKILL");
  await new Promise((resolve) => owner.once("exit", resolve));
  t.true(reservePort(port), "old and its owner gone: lapsed");
  t.is(readFileSync(file, "utf8"), `${process.pid} ${processStartTime(process.pid)}`);
  t.false(reservePort(port), "now this process holds it");
});

test("a reservation whose pid now belongs to another process (started later) has lapsed", async (t) => {
  const port = await unusedPort();
  const file = reservationFile(port);
  writeFileSync(file, `${process.pid} ${(processStartTime(process.pid) ?? 0) - 1}`);
  const old = new Date(Date.now() - 5 * 60_000);
  utimesSync(file, old, old);
  t.true(reservePort(port));
});

test("a reservation less than a minute old holds even when its owner is gone (a launcher that exited before its servers bound)", async (t) => {
  const port = await unusedPort();
  writeFileSync(reservationFile(port), "999999999 1");
  t.false(reservePort(port));
});

test("two processes choosing ports at the same time never get the same one", async (t) => {
  // Without reservations, 500 random picks each from 6,700 ports would share about 37.
  const child = spawn(process.execPath, ["--import=tsx", "--input-type=module", "-e", `
    import { freePort } from "@corral/kit";
    const ports = [];
    for (let i = 0; i < 500; i++) ports.push(await freePort());
    console.log(JSON.stringify(ports));
    setTimeout(() => {}, 60_000);
  `], { stdio: ["ignore", "pipe", "inherit"], cwd: process.cwd() });
  t.teardown(() => child.kill("SIGKILL"));
  const mine: number[] = [];
  for (let i = 0; i < 500; i++) mine.push(await freePort());
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the other process exited (${code}) before answering`)));
  });
  const theirs = new Set(JSON.parse(line) as number[]);
  t.is(theirs.size, 500);
  t.deepEqual(mine.filter((port) => theirs.has(port)), []);
});

test("a port range is reserved whole: no port of it is handed out again", async (t) => {
  const [low, high] = await freePortRange(50);
  t.is(high - low + 1, 50);
  for (let port = low; port <= high; port++) t.false(reservePort(port));
});
