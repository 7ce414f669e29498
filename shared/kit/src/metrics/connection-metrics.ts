import { Counter, type Registry } from "prom-client";

export interface TroubleCounters {
  /** a working connection lost (the client reconnects on its own) */
  disconnects: Counter;
  errors: Counter;
}

/**
 * Trouble with the process's NATS and Redis connections, counted where shared/kit's
 * connection helpers see it. Each pair is registered by the first connection of its kind,
 * so a service without Redis exports no Redis series.
 */
export class ConnectionMetrics {
  private natsCounters: TroubleCounters | undefined;
  private redisCounters: TroubleCounters | undefined;

  constructor(private readonly registry: Registry) {}

  get nats(): TroubleCounters {
    return (this.natsCounters ??= {
      disconnects: this.counter("corral_nats_disconnects_total", "Times the connection to NATS was lost (the client reconnects on its own)."),
      errors: this.counter("corral_nats_errors_total", "Errors the NATS server reported on this process's connection."),
    });
  }

  get redis(): TroubleCounters {
    return (this.redisCounters ??= {
      disconnects: this.counter("corral_redis_disconnects_total", "Times a working Redis connection was lost (the client reconnects on its own)."),
      // ioredis reports an error for each failed attempt, so a Redis that stays away keeps this growing.
      errors: this.counter("corral_redis_errors_total", "Errors on this process's Redis connections, one per failed attempt while Redis is away."),
    });
  }

  private counter(name: string, help: string): Counter {
    return new Counter({ name, help, registers: [this.registry] });
  }
}
