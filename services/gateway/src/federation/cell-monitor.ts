import { CorralError, masterStats, subjects } from "@corral/contracts";
import { callRpc, type Logger, type NatsConnection } from "@corral/kit";

export type CellHealth = "healthy" | "unreachable" | "down";

interface CellContact {
  /** when its leader last answered; the gateway's start for a cell not heard from yet */
  answeredAt: number;
  answeredLast: boolean;
  leader?: string;
  epoch?: number;
  runningTasks?: number;
  pendingTasks?: number;
}

/**
 * Asks each cell's leader how it is, every `everyMs`. A cell whose leader has not answered
 * for `downAfterMs` is down: a federation places its share elsewhere. A gateway that just
 * started gives every cell that long before calling it down, so a restart moves nothing.
 */
export class CellMonitor {
  private readonly contacts = new Map<string, CellContact>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    readonly cells: readonly string[],
    private readonly downAfterMs: number,
    private readonly log: Logger,
    private readonly everyMs = 1000,
  ) {
    const now = Date.now();
    for (const cell of cells) this.contacts.set(cell, { answeredAt: now, answeredLast: false });
  }

  start(): void {
    const tick = async () => {
      await Promise.all(this.cells.map((cell) => this.ping(cell)));
      if (this.stopped) return;
      this.timer = setTimeout(() => void tick(), this.everyMs);
      this.timer.unref();
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async ping(cell: string): Promise<void> {
    const contact = this.contacts.get(cell)!;
    try {
      // A leader busy placing thousands of tasks may take a while to answer: that is slow,
      // not gone, and calling it down would move its share for nothing.
      const stats = await callRpc(this.nc, subjects.api(cell, "stats"), masterStats, cell, { collectGarbage: false }, { timeoutMs: Math.max(2000, 2 * this.everyMs) });
      if (!contact.answeredLast) this.log.info({ cell, leader: stats.replica, epoch: stats.epoch }, "cell answers");
      Object.assign(contact, { answeredAt: Date.now(), answeredLast: true, leader: stats.replica, epoch: stats.epoch, runningTasks: stats.runningTasks, pendingTasks: stats.pendingTasks });
    } catch (error) {
      if (!(error instanceof CorralError) || error.code !== "unavailable") this.log.warn({ cell, err: (error as Error).message }, "cell ping failed");
      if (contact.answeredLast) this.log.warn({ cell }, "cell's leader does not answer");
      contact.answeredLast = false;
    }
  }

  /** Any answer from the cell (a status, a submission) counts as contact. */
  heardFrom(cell: string): void {
    const contact = this.contacts.get(cell);
    if (contact === undefined) return;
    contact.answeredAt = Date.now();
    contact.answeredLast = true;
  }

  health(cell: string, now = Date.now()): CellHealth {
    const contact = this.contacts.get(cell);
    if (contact === undefined) return "down";
    if (contact.answeredLast) return "healthy";
    return now - contact.answeredAt >= this.downAfterMs ? "down" : "unreachable";
  }

  contact(cell: string): Readonly<CellContact> & { agoMs: number } {
    const contact = this.contacts.get(cell) ?? { answeredAt: 0, answeredLast: false };
    return { ...contact, agoMs: Date.now() - contact.answeredAt };
  }
}
