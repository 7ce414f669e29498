import test from "ava";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Lease } from "@corral/contracts";
import { createLogger } from "@corral/kit";
import { Spawner, type SpawnEvents, type SpawnRequest } from "../src/spawner.js";

const log = createLogger("borglet-test", "test");

function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "corral-spawner-"));
  mkdirSync(join(dir, "logs"));
  mkdirSync(join(dir, "tasks"));
  return dir;
}

function request(dir: string, name: string, file: string, args: string[] = []): SpawnRequest {
  return { file, args, stdout: join(dir, "logs", `${name}.stdout`), stderr: join(dir, "logs", `${name}.stderr`) };
}

interface Outcome {
  pid?: number;
  failed?: string;
  code?: number | null;
  signal?: string | null;
  lost?: true;
}

/** Spawns and resolves at its end: exit, failure, or loss of the helper. */
function run(spawner: Spawner, req: SpawnRequest, onSpawned?: (pid: number) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = {};
    const events: SpawnEvents = {
      spawned: (pid) => {
        outcome.pid = pid;
        onSpawned?.(pid);
      },
      failed: (message) => resolve({ ...outcome, failed: message }),
      exited: (code, signal) => resolve({ ...outcome, code, signal }),
      lost: () => resolve({ ...outcome, lost: true }),
    };
    spawner.spawn(req, events);
  });
}

test("hundreds of short tasks through a small start window: each is spawned once and its exit reported with its code", async (t) => {
  const dir = workDir();
  const spawner = new Spawner(log, 8);
  spawner.start();
  t.teardown(() => spawner.stop());
  const outcomes = await Promise.all(Array.from({ length: 300 }, (_, i) => run(spawner, request(dir, `t${i}`, "/bin/sh", ["-c", `exit ${i % 3}`]))));
  t.is(new Set(outcomes.map((o) => o.pid)).size, 300, "a pid each");
  t.deepEqual(
    outcomes.map((o) => o.code),
    outcomes.map((_, i) => i % 3),
  );
  t.is(spawner.queued, 0);
});

test("output goes to the task's files; a signal is reported as such", async (t) => {
  const dir = workDir();
  const spawner = new Spawner(log);
  spawner.start();
  t.teardown(() => spawner.stop());
  const req = request(dir, "echo", "/bin/sh", ["-c", "echo out; echo err >&2; kill -TERM $$"]);
  const outcome = await run(spawner, req);
  t.is(outcome.signal, "SIGTERM");
  t.is(readFileSync(req.stdout, "utf8"), "out\n");
  t.is(readFileSync(req.stderr, "utf8"), "err\n");
});

test("a binary that cannot run is a failure, not an exit; the next spawn still works", async (t) => {
  const dir = workDir();
  const spawner = new Spawner(log);
  spawner.start();
  t.teardown(() => spawner.stop());
  const missing = await run(spawner, request(dir, "missing", join(dir, "no-such-binary")));
  t.regex(missing.failed ?? "", /ENOENT/);
  t.is((await run(spawner, request(dir, "ok", "/bin/true"))).code, 0);
});

test("the task record is written with the pid while the task runs and removed at its exit", async (t) => {
  const dir = workDir();
  const spawner = new Spawner(log);
  spawner.start();
  t.teardown(() => spawner.stop());
  const path = join(dir, "tasks", "0.job.json");
  const lease = { taskId: "0.job.u.c", incarnation: 2 } as Lease;
  let recorded: { pid?: number; incarnation?: number; startTime?: number } = {};
  // The task waits for its stdin-less sleep; the record is read while it runs.
  const outcome = await run(spawner, { ...request(dir, "rec", "/bin/sleep", ["0.3"]), record: { path, fields: { taskId: lease.taskId, incarnation: 2, lease, runtime: "host" } } }, () => {
    // The helper writes the record before it says the task started.
    recorded = JSON.parse(readFileSync(path, "utf8")) as typeof recorded;
  });
  t.is(recorded.pid, outcome.pid);
  t.is(recorded.incarnation, 2);
  t.true((recorded.startTime ?? 0) > 0);
  t.is(outcome.code, 0);
  t.false(existsSync(path));
});

test("a spawn still queued can be cancelled and is never started", async (t) => {
  const dir = workDir();
  const spawner = new Spawner(log, 1);
  spawner.start();
  t.teardown(() => spawner.stop());
  const first = run(spawner, request(dir, "first", "/bin/true"));
  let started = false;
  const second = spawner.spawn(request(dir, "second", "/bin/true"), { spawned: () => (started = true), failed: () => {}, exited: () => {}, lost: () => {} });
  t.true(second.cancel());
  t.false(second.cancel(), "only once");
  await first;
  // A spawn queued after the cancelled one runs, so the cancelled one would have by now.
  t.is((await run(spawner, request(dir, "third", "/bin/true"))).code, 0);
  t.false(started);
});

test("if the helper dies, running tasks are reported lost and the next helper spawns again", async (t) => {
  const dir = workDir();
  const spawner = new Spawner(log);
  spawner.start();
  t.teardown(() => spawner.stop());
  let sleeperPid: number | undefined;
  const sleeper = run(spawner, request(dir, "sleeper", "/bin/sleep", ["30"]), (pid) => {
    sleeperPid = pid;
    // The helper is the sleeper's parent.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    process.kill(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]), "SIGKILL");
  });
  t.true((await sleeper).lost);
  process.kill(-sleeperPid!, "SIGKILL");
  t.is((await run(spawner, request(dir, "after", "/bin/true"))).code, 0);
});

test("the borglet's own commands run from the helper: in their directory, to their end, and a failure carries what the command said", async (t) => {
  const dir = workDir();
  const spawner = new Spawner(log, 4);
  spawner.start();
  t.teardown(() => spawner.stop());
  await spawner.run("/bin/sh", ["-c", "touch made-here"], { cwd: dir });
  t.true(existsSync(join(dir, "made-here")), "run in the directory asked for");
  const failed = await t.throwsAsync(spawner.run("/bin/sh", ["-c", "echo 'mount: no such device' >&2; exit 32"]));
  t.regex(failed!.message, /failed \(32\)/);
  t.is((failed as Error & { stderr: string }).stderr.trim(), "mount: no such device");
  const missing = await t.throwsAsync(spawner.run(join(dir, "no-such-binary"), []));
  t.regex(missing!.message, /could not start/);
  await spawner.run("/bin/true", []);
  t.pass("the next command runs after a failure");
});
