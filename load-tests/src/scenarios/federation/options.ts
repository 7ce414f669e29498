import { z } from "zod";

export const federationOptions = z.object({
  replicas: z.coerce.number().int().min(3).max(100_000).default(10_000),
  cells: z.string().default("a,b,c").transform((text) => text.split(",").map((cell) => cell.trim())),
  /** the cell whose masters are all killed */
  lose: z.string().default("a"),
  machinesPerCell: z.coerce.number().int().min(1).default(1000),
  /** hollow borglet processes per cell, sharing its machines */
  hollowProcesses: z.coerce.number().int().min(1).default(1),
  /** per cell; 3 fit 2 cores with nine masters in all (see README § Performance) */
  masters: z.coerce.number().int().min(1).max(9).default(3),
  gateways: z.coerce.number().int().min(1).max(5).default(2),
  cellDownAfterMs: z.coerce.number().int().min(500).default(5000),
  heartbeatMs: z.coerce.number().int().min(100).default(2000),
  leaseTtlMs: z.coerce.number().int().min(300).default(1000),
  /** the job's max_disruption: extras stopped per reconcile pass while rebalancing (the spec's default is a tenth of the replicas) */
  maxDisruption: z.coerce.number().int().min(1).max(10_000).default(1000),
  /** restart the lost cell's masters and time the rebalance back */
  rebalance: z.stringbool().default(true),
  /** how often the federated view is read */
  pollMs: z.coerce.number().int().min(50).default(500),
  /** seconds the federation is watched idle (no job) before the submission: what the cells cost at rest */
  idleS: z.coerce.number().min(0).default(5),
  /** each phase's limit */
  timeoutS: z.coerce.number().min(1).default(300),
});

export type FederationOptions = z.infer<typeof federationOptions>;

/** The cells, the one to lose and the others, checked against each other. */
export function cellRoles(options: FederationOptions): { cells: string[]; lose: string; others: string[] } {
  const cells = options.cells;
  const lose = options.lose;
  if (cells.length < 2 || new Set(cells).size !== cells.length) throw new Error(`federation: --cells ${cells.join(",")} must name at least two cells, each once`);
  if (!cells.includes(lose)) throw new Error(`federation: --lose ${lose} is not one of --cells ${cells.join(",")}`);
  return { cells, lose, others: cells.filter((cell) => cell !== lose) };
}
