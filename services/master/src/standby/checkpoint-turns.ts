// Who writes the next checkpoint, and when: a turn held in Redis, so that one master at a time
// spends the seconds a big cell's checkpoint takes.
import { CorralError } from "@corral/contracts";
import type { CheckpointStore, Logger } from "@corral/kit";
import type { StateFollower } from "./follower.js";

/** Held through the checkpoint, however big; a master that dies holding it delays the next by this much at most. */
const CHECKPOINT_CLAIM_MS = 60_000;
/** A checkpoint that took T waits 10 T for the next: at most about a tenth of a master's time. */
const CHECKPOINT_SPACING_FACTOR = 10;
/** Periods with no checkpoint and no turn held before the leader takes one itself (no standby runs). */
const LEADER_TAKES_OVER_AFTER_PERIODS = 3;

export interface CheckpointTurnOptions {
  /** this replica's name, as the turn's holder */
  replica: string;
  /** the shortest time between checkpoints */
  everyMs: number;
}

/**
 * Checkpoints are the standbys' work: one at a time writes the copy it follows, and the log
 * is trimmed behind the checkpoint. Turns are spaced by what the last one cost, never closer
 * than `everyMs`. The leader takes one itself, from the stored state, only when no turn was
 * held and none was taken for three periods.
 */
export class CheckpointTurns {
  private positionSeen = "";
  private periodsWithout = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly checkpoints: CheckpointStore,
    private readonly options: CheckpointTurnOptions,
    /** what this replica is now: the leader, or a standby with the copy it follows (if it has one yet) */
    private readonly role: () => "leading" | { follower: StateFollower | undefined },
    private readonly log: Logger,
    private readonly onIncompatible: (error: CorralError) => never,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.tick().catch((error: unknown) => {
        if (error instanceof CorralError && error.code === "incompatible_state") this.onIncompatible(error);
        this.log.warn({ err: (error as Error).message }, "checkpoint failed; the log is kept until the next one");
      });
    }, this.options.everyMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    const { checkpoints, options } = this;
    const position = await checkpoints.position();
    const turnHeld = await checkpoints.turnHeld();
    this.periodsWithout = position === this.positionSeen && !turnHeld ? this.periodsWithout + 1 : 0;
    this.positionSeen = position;
    if (turnHeld || (this.role() === "leading" && this.periodsWithout < LEADER_TAKES_OVER_AFTER_PERIODS)) return;
    if (!(await checkpoints.claimTurn(options.replica, Math.max(options.everyMs, CHECKPOINT_CLAIM_MS)))) return;
    const started = Date.now();
    // Asked again: this replica may have taken the lead while claiming, and a leader's follower is stopped.
    const role = this.role();
    const following = role === "leading" ? undefined : role.follower;
    const taken = following !== undefined ? await following.takeCheckpoint() : await checkpoints.take();
    const tookMs = Date.now() - started;
    const nextInMs = Math.max(options.everyMs, CHECKPOINT_SPACING_FACTOR * tookMs);
    await checkpoints.holdTurn(options.replica, nextInMs);
    if (taken !== undefined) {
      this.log.info({ position: taken.position, records: taken.records, bytes: taken.bytes, ms: tookMs, nextInMs, from: following !== undefined ? "followed copy" : "stored state" }, "checkpoint taken; change log trimmed behind it");
    }
  }
}
