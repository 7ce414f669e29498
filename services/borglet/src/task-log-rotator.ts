// Keeps every task's logs under their cap, on a timer of its own. Apart from the Borglet because
// a pass is slow file work that must never overlap itself, whatever else the borglet is doing.
import type { Logger } from "@corral/kit";
import { taskPaths } from "./host-task.js";
import { rotateIfLarge } from "./log-rotation.js";

/** How often task logs are checked against their cap. */
const LOG_CHECK_MS = 2000;

/** What the rotator needs of a task: only whether it has started (and so may have written). */
interface LoggingTask {
  readonly pid: number | undefined;
}

export class TaskLogRotator {
  private rotating = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly logMaxBytes: number,
    private readonly log: Logger,
    /** the borglet's tasks by id, as they are at each step of a pass */
    private readonly tasks: () => Iterable<[string, LoggingTask]>,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.rotateLogs(), LOG_CHECK_MS);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private async rotateLogs(): Promise<void> {
    if (this.rotating) return; // a large copy can outlast the interval
    this.rotating = true;
    try {
      await this.rotateEachLog();
    } finally {
      this.rotating = false;
    }
  }

  private async rotateEachLog(): Promise<void> {
    for (const [taskId, task] of this.tasks()) {
      // A task still waiting for its turn to start has written nothing yet: a burst of
      // queued tasks must not cost a look at two files each.
      if (task.pid === undefined) continue;
      const paths = taskPaths(this.dataDir, taskId);
      for (const path of [paths.stdout, paths.stderr]) {
        if (await rotateIfLarge(path, this.logMaxBytes).catch(() => false)) this.log.info({ task: taskId, log: path }, "log rotated");
      }
    }
  }
}
