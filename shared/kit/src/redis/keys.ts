/** Every Redis key of a cell carries the `{cell}` hash tag, so Redis Cluster keeps them on one slot. */
export function cellKeys(cell: string) {
  const prefix = `corral:{${cell}}`;
  return {
    lease: `${prefix}:lease`,
    /** the Redis client id of the lease holder's connection: gone from CLIENT LIST once the holder's process dies */
    leaseConnection: `${prefix}:lease-connection`,
    epoch: `${prefix}:epoch`,
    state: `${prefix}:state`,
    log: `${prefix}:log`,
    checkpoint: `${prefix}:checkpoint`,
    /** the chunks of the checkpoint that covers the log up to `position` */
    checkpointChunks: (position: string) => `${prefix}:checkpoint:chunks:${position}`,
    checkpointLock: `${prefix}:checkpoint-lock`,
  } as const;
}
