/**
 * Run by a cell's watchdog (starter-guard.ts) once the process that started the cell has
 * gone without stopping it: stops the cell as `corral cell down` would. It imports only the
 * teardown, so it starts quickly on a busy machine.
 */
import { stopLocalCell } from "./teardown.js";

const say = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

async function main(dir: string | undefined): Promise<number> {
  if (dir === undefined) {
    say("usage: orphaned-cell-main.ts <cell directory>");
    return 2;
  }
  say(`the process that started the cell in ${dir} is gone without stopping it; stopping the cell`);
  const cell = await stopLocalCell(dir, 2000);
  say(cell === undefined ? "no cell file: nothing was started yet" : `stopped the cell's ${cell.processes.length} processes, their tasks and containers`);
  return 0;
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`teardown failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
