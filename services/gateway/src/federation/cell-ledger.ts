import type { FederatedJobRecord, FederationPolicy } from "@corral/contracts";
import type { CellObservation, MemberObservation } from "./placement.js";

/**
 * What one reconciliation pass counts of each cell's share of a federated job. It reads the
 * record being decided as it changes, so a step sees what the steps before it decided.
 */
export class CellLedger {
  constructor(
    private readonly next: FederatedJobRecord,
    private readonly policy: FederationPolicy,
    private readonly seen: ReadonlyMap<string, CellObservation>,
    private readonly now: number,
  ) {}

  /** A cell missing from the observations is unreachable, not down: it keeps its credit until it is down. */
  observed(cell: string): CellObservation {
    return this.seen.get(cell) ?? { reachable: false, down: false };
  }

  /** The cell's member job, unless it is a job of the same name that is not ours. */
  ours(cell: string): MemberObservation | undefined {
    const member = this.observed(cell).member;
    return member?.ours === true ? member : undefined;
  }

  /** What a cell provides of its share: tasks running, and tasks that already ran to their end. */
  provided(cell: string): number {
    const member = this.ours(cell);
    return member === undefined || member.killed ? 0 : member.running + member.finished;
  }

  /**
   * What a cell will still provide once every scale down already decided reaches it: a
   * gateway may have written a smaller share and died before telling the cell, so the
   * tasks above the share may be stopped any moment and are not counted.
   */
  surviving(cell: string): number {
    const member = this.ours(cell);
    const share = this.next.assigned[cell] ?? 0;
    if (member === undefined || member.killed || share === 0) return 0;
    return Math.max(0, this.provided(cell) - Math.max(0, member.replicas - share));
  }

  /** Short of its share for longer than spill_after. */
  stuck(cell: string): boolean {
    const since = this.next.shortSince[cell];
    return since !== undefined && this.now - since >= this.policy.spillAfterMs;
  }

  /** How much of its share a cell is counted on for; what the credits lack is placed elsewhere. */
  credit(cell: string): number {
    const seenHere = this.observed(cell);
    if (seenHere.down) return 0;
    // Silent for less than cell-down-after: as far as anyone knows it runs its share.
    if (!seenHere.reachable) return this.next.assigned[cell] ?? 0;
    if (this.next.refused[cell] !== undefined || this.stuck(cell)) return Math.min(this.provided(cell), this.next.assigned[cell] ?? 0);
    return this.next.assigned[cell] ?? 0;
  }
}
