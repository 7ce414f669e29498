import { isPlaced } from "@corral/contracts";
import type { GatewayClient } from "@corral/client";

const POLL_MS = 500;

/**
 * `corral logs --follow`: the tail, then reads on from where the last read ended, like
 * `tail -f`. A log that shrank was rotated by its borglet: reading starts over from its
 * beginning. Ends when the task stops running, after printing its last words.
 */
export async function followLogs(api: GatewayClient, job: string, index: number, stream: "stdout" | "stderr", tail: number): Promise<void> {
  let read = await api.logsRead(job, index, stream, { tail });
  process.stdout.write(read.text);
  let offset = read.size;
  for (;;) {
    // A placed task may still write: assigned and starting ones are about to.
    const running = isPlaced(read.state);
    if (running) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    read = await api.logsRead(job, index, stream, { from: offset });
    if (read.size < offset) {
      process.stderr.write(`--- ${stream} was rotated; following the new file ---\n`);
      offset = 0;
      continue;
    }
    process.stdout.write(read.text);
    offset = (read.start ?? offset) + Buffer.byteLength(read.text);
    // One more read after the task stopped, for what it wrote last; then done.
    if (!running) return;
  }
}
