/** Every Redis key of a cell carries the `{cell}` hash tag, so Redis Cluster keeps them on one slot. */
export function cellKeys(cell: string) {
  const prefix = `corral:{${cell}}`;
  return {
    lease: `${prefix}:lease`,
    epoch: `${prefix}:epoch`,
    state: `${prefix}:state`,
    log: `${prefix}:log`,
    checkpoint: `${prefix}:checkpoint`,
    checkpointLock: `${prefix}:checkpoint-lock`,
  } as const;
}
