import test from "ava";
import { spawn } from "node:child_process";
import { readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { processStartTime } from "@corral/kit";
import { freePort, freePortRange, reservationFile, reservePort, shareReservations } from "../index.js";

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
  // The child says when it is ready and starts at our word, so the two really overlap.
  const child = spawn(process.execPath, ["--import=tsx", "--input-type=module", "-e", `
    import { freePort } from "@corral/launcher";
    import { createInterface } from "node:readline";
    console.log("ready");
    await new Promise((resolve) => createInterface({ input: process.stdin }).once("line", resolve));
    const ports = [];
    for (let i = 0; i < 500; i++) ports.push(await freePort());
    console.log(JSON.stringify(ports));
    setTimeout(() => {}, 60_000);
  `], { stdio: ["pipe", "pipe", "inherit"], cwd: process.cwd() });
  t.teardown(() => child.kill("SIGKILL"));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  t.is((await lines.next()).value, "ready");
  child.stdin!.write("go\n");
  const mine: number[] = [];
  for (let i = 0; i < 500; i++) mine.push(await freePort());
  const theirs = new Set(JSON.parse((await lines.next()).value as string) as number[]);
  t.is(theirs.size, 500);
  t.deepEqual(mine.filter((port) => theirs.has(port)), []);
});

test("a shared reservation stands while any of its owners lives", async (t) => {
  const borglet = spawn("sleep", ["60"], { stdio: "ignore" });
  t.teardown(() => borglet.kill("SIGKILL"));
  const port = await unusedPort();
  const file = reservationFile(port);
  // As a launcher that exited would leave it: itself gone, the borglet it shared with alive.
  writeFileSync(file, `999999999 1\n${borglet.pid} ${processStartTime(borglet.pid!)}`);
  const old = new Date(Date.now() - 5 * 60_000);
  utimesSync(file, old, old);
  t.false(reservePort(port));
  borglet.kill("SIGKILL");
  await new Promise((resolve) => borglet.once("exit", resolve));
  t.true(reservePort(port));
});

test("shareReservations adds the owner to this process's reservations, and only to those", async (t) => {
  const [low] = await freePortRange(2);
  const stranger = 65_000; // outside both ranges: never handed out here
  writeFileSync(reservationFile(stranger), "999999999 1"); // another's, not ours to share
  t.teardown(() => rmSync(reservationFile(stranger), { force: true }));
  const owner = { pid: 4242, startTime: 7 };
  shareReservations([low, low + 1, stranger], owner);
  t.is(readFileSync(reservationFile(low), "utf8"), `${process.pid} ${processStartTime(process.pid)}\n4242 7`);
  t.is(readFileSync(reservationFile(stranger), "utf8"), "999999999 1");
});

test("a takeover lock left by a process that died mid-takeover keeps that port out of use", async (t) => {
  const port = await unusedPort();
  const file = reservationFile(port);
  writeFileSync(file, "999999999 1");
  const old = new Date(Date.now() - 5 * 60_000);
  utimesSync(file, old, old);
  writeFileSync(`${file}.takeover`, "999999998 1");
  t.false(reservePort(port));
});

test("a port range is reserved whole: no port of it is handed out again", async (t) => {
  const [low, high] = await freePortRange(50);
  t.is(high - low + 1, 50);
  for (let port = low; port <= high; port++) t.false(reservePort(port));
});
