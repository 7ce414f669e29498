// The borglet's task events, held and sent in batches. Apart from the Borglet because how long
// events wait (and why) is a cost trade-off of its own, measured against the masters' cpu.
import { subjects, taskEventBatch, type TaskEvent } from "@corral/contracts";
import { publishEvent, type NatsConnection } from "@corral/kit";

/**
 * How long a busy borglet holds task events to send them together (measured with
 * `short-tasks`: 100 ms took the masters' cpu for 2,000 tasks from 10 to 6 s, and tasks/s
 * from about 88 to 103). A quiet borglet sends at once: a batch waits only when another
 * left less than this ago.
 */
const EVENT_LINGER_MS = 100;

/**
 * Outboxes due now are flushed together, in one turn of the event loop: a process of
 * thousands of hollow machines then writes their batches to NATS in one socket write rather
 * than one per machine (each turn ends with the client flushing what was published in it).
 */
const dueNow: TaskEventOutbox[] = [];
function flushSoon(outbox: TaskEventOutbox): void {
  dueNow.push(outbox);
  if (dueNow.length > 1) return;
  setImmediate(() => {
    for (const due of dueNow.splice(0, dueNow.length)) due.flush();
  });
}

export class TaskEventOutbox {
  private readonly outbox: TaskEvent[] = [];
  private flushScheduled = false;
  private lastFlushAt = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly cell: string,
    private readonly node: string,
  ) {}

  /**
   * Events go out in batches: at once when the last batch left more than EVENT_LINGER_MS
   * ago, else together when that much has passed. Every batch is a commit on the leader
   * and a log entry each standby applies, so a borglet whose tasks start and exit every few
   * milliseconds must not send a batch for each.
   */
  emit(event: TaskEvent): void {
    this.outbox.push(event);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    const wait = this.lastFlushAt + EVENT_LINGER_MS - Date.now();
    if (wait > 0) setTimeout(() => this.flush(), wait);
    else flushSoon(this);
  }

  /** Sends the event at once, with any waiting: for a report that must not linger. */
  sendNow(event: TaskEvent): void {
    this.outbox.push(event);
    this.flush();
  }

  flush(): void {
    this.flushScheduled = false;
    this.lastFlushAt = Date.now();
    if (this.outbox.length === 0) return;
    const events = this.outbox.splice(0, this.outbox.length);
    const { cell, node } = this;
    publishEvent(this.nc, subjects.nodeEvents(cell, node), taskEventBatch, cell, { node, events });
  }
}
