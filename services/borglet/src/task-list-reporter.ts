import { taskListDigest, type HeartbeatTask } from "@corral/contracts";

/**
 * A heartbeat lists the machine's tasks whole only when they changed since the last list
 * sent, when usage moved, when a master asked (its state did not match the digest), or
 * every FULL_EVERY heartbeats as a backstop; otherwise it sends their digest. In a big
 * quiet cell the task lists were most of every heartbeat's bytes and of the masters' time
 * decoding and validating them.
 */
const FULL_EVERY = 10;

export class TaskListReporter {
  private lastListed: string | undefined;
  private sinceListed = 0;
  private wanted = false;

  /** A master asked for the whole list (nodeHeartbeatWanted). */
  wantFull(): void {
    this.wanted = true;
  }

  /** The tasks part of the next heartbeat. */
  next(tasks: HeartbeatTask[], usageMoved: boolean): { tasks: HeartbeatTask[] } | { tasksDigest: string } {
    const digest = taskListDigest(tasks);
    if (usageMoved || this.wanted || digest !== this.lastListed || this.sinceListed + 1 >= FULL_EVERY) {
      this.lastListed = digest;
      this.sinceListed = 0;
      this.wanted = false;
      return { tasks };
    }
    this.sinceListed += 1;
    return { tasksDigest: digest };
  }
}
