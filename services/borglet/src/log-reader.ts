import { open, stat } from "node:fs/promises";

/** The last `tailBytes` of a log file; a missing file is an empty log. */
export async function readTail(path: string, tailBytes: number): Promise<{ text: string; size: number; truncated: boolean }> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return { text: "", size: 0, truncated: false };
  }
  const start = Math.max(0, size - tailBytes);
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    return { text: buffer.toString("utf8"), size, truncated: start > 0 };
  } finally {
    await handle.close();
  }
}
