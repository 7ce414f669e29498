import { open, stat } from "node:fs/promises";

/** At most this much per read when following, so one answer stays well under NATS's payload limit. */
const FOLLOW_CHUNK = 1024 * 1024;

/**
 * The last `tailBytes` of a log file, or with `from` the bytes after that offset (a follower's
 * next read; an offset past the end means the file was rotated, and nothing is returned). A
 * missing file is an empty log.
 */
export async function readLog(path: string, tailBytes: number, from?: number): Promise<{ text: string; size: number; truncated: boolean; start: number }> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return { text: "", size: 0, truncated: false, start: 0 };
  }
  const start = from === undefined ? Math.max(0, size - tailBytes) : Math.min(from, size);
  const end = from === undefined ? size : Math.min(size, start + FOLLOW_CHUNK);
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(end - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    return { text: buffer.subarray(0, bytesRead).toString("utf8"), size, truncated: from === undefined ? start > 0 : end < size, start };
  } finally {
    await handle.close();
  }
}
