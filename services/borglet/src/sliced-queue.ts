/**
 * Runs queued work a slice at a time, yielding to the event loop between slices, in the
 * order it was queued. A lease batch of thousands of grants would otherwise hold the
 * borglet's loop for seconds on a busy machine, and its heartbeats with it.
 */
export class SlicedQueue<T> {
  private readonly items: T[] = [];
  private head = 0;
  private scheduled = false;

  constructor(
    private readonly work: (item: T) => void,
    private readonly perSlice: number,
  ) {
    if (!Number.isInteger(perSlice) || perSlice < 1) throw new RangeError(`a slice is at least one item (got ${perSlice})`);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  push(...items: T[]): void {
    this.items.push(...items);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.slice());
  }

  private slice(): void {
    this.scheduled = false;
    const end = Math.min(this.items.length, this.head + this.perSlice);
    try {
      while (this.head < end) this.work(this.items[this.head++]!);
    } finally {
      // Drop what is done now and then, not on every slice (splice is linear).
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
      this.schedule();
    }
  }
}
