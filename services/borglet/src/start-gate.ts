/**
 * At most `limit` holders at once; the rest wait their turn, first come first served. A
 * container start (an overlay mount, then runc creating namespaces and cgroups) costs tens
 * of milliseconds of cpu: two hundred of them at once on two cores only make every one of
 * them, and the borglet's heartbeats, late. Started a few at a time (two per core of the
 * borglet's share of the host by default), they finish as fast as the machine allows and
 * in order.
 */
export class StartGate {
  private holders = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a start gate needs a whole limit of at least 1, not ${limit}`);
  }

  /** Starts waiting for the gate. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves once the caller holds the gate; the function it gives lets the next one in (a second call does nothing). */
  enter(): Promise<() => void> {
    return new Promise((resolve) => {
      const admit = () => {
        this.holders += 1;
        let left = false;
        resolve(() => {
          if (left) return;
          left = true;
          this.holders -= 1;
          this.waiting.shift()?.();
        });
      };
      if (this.holders < this.limit) admit();
      else this.waiting.push(admit);
    });
  }
}
