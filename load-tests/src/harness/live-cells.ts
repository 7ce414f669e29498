/**
 * The cells this load run has started and not yet stopped, so that an interrupted run
 * (Ctrl-C, or a SIGTERM from whoever runs it) stops them before it exits. A run killed
 * outright (SIGKILL) cannot do this; each cell's watchdog (`dieWithStarter`) stops it then.
 */

interface Stoppable {
  stop(): Promise<void>;
}

const live = new Set<Stoppable>();
let interruptedBy: NodeJS.Signals | undefined;

/** Adds a started cell; `stop` removes it (see LoadCell.stop). */
export function trackLiveCell(cell: Stoppable): void {
  live.add(cell);
}

export function untrackLiveCell(cell: Stoppable): void {
  live.delete(cell);
}

/** The signal that is stopping this run, if one is: the scenario's own failure is then expected. */
export function interruption(): NodeJS.Signals | undefined {
  return interruptedBy;
}

/**
 * On SIGINT or SIGTERM: stops every live cell and exits with 128 + the signal's number. A
 * second signal exits at once (the watchdogs finish the teardown).
 */
export function stopLiveCellsOnSignal(write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): void {
  const handler = (signal: NodeJS.Signals) => {
    const code = 128 + (signal === "SIGINT" ? 2 : 15);
    if (interruptedBy !== undefined) process.exit(code);
    interruptedBy = signal;
    write(`load: ${signal}: stopping ${live.size} cell${live.size === 1 ? "" : "s"} (again to exit at once; the cells' watchdogs then stop them)`);
    Promise.allSettled([...live].map((cell) => cell.stop())).then((outcomes) => {
      const failed = outcomes.filter((outcome) => outcome.status === "rejected").length;
      if (failed > 0) write(`load: ${failed} cell${failed === 1 ? "" : "s"} did not stop cleanly; their watchdogs will finish the job`);
      process.exit(code);
    }, () => process.exit(code));
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}
