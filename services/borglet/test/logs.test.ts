import test from "ava";
import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLog } from "../src/log-reader.js";
import { rotateIfLarge } from "../src/log-rotation.js";

test("a log past its cap is copied to .1 and emptied in place; the writer's next append starts the new file", async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), "corral-logs-")), "task.stdout");
  const writer = openSync(path, "a"); // as a task holds it: append mode
  writeSync(writer, "x".repeat(3000));
  t.false(await rotateIfLarge(path, 4096), "under the cap: left alone");
  writeSync(writer, "y".repeat(2000));
  t.true(await rotateIfLarge(path, 4096));
  t.is(readFileSync(`${path}.1`, "utf8").length, 5000);
  writeSync(writer, "after\n");
  t.is(readFileSync(path, "utf8"), "after\n", "no hole of zeros before the new text");
  closeSync(writer);
});

test("reading a log: the tail, or the bytes after an offset; an offset past the end (a rotated log) gives nothing", async (t) => {
  const path = join(mkdtempSync(join(tmpdir(), "corral-logs-")), "task.stdout");
  appendFileSync(path, "one\ntwo\nthree\n");
  t.deepEqual(await readLog(path, 6), { text: "three\n", size: 14, truncated: true, start: 8 });
  t.deepEqual(await readLog(path, 1024, 4), { text: "two\nthree\n", size: 14, truncated: false, start: 4 });
  t.deepEqual(await readLog(path, 1024, 99), { text: "", size: 14, truncated: false, start: 14 });
  t.deepEqual(await readLog(join(path, "..", "missing"), 10), { text: "", size: 0, truncated: false, start: 0 });
});
