import { copyFile, stat, truncate } from "node:fs/promises";

/**
 * Keeps a task's log under its cap: the file is copied to `<file>.1` (replacing the previous
 * one) and emptied in place, as logrotate's copytruncate does. The task keeps its file open
 * in append mode, so its next write lands at the start of the emptied file; what it writes
 * between the copy and the truncation is lost, which is the price of never stopping it.
 */
export async function rotateIfLarge(path: string, maxBytes: number): Promise<boolean> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  await copyFile(path, `${path}.1`);
  await truncate(path, 0);
  return true;
}
