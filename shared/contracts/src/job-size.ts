// How much a job asks for: each task's resources and ports, and how many tasks. Apart from
// job-spec.ts because placement rules, messages and views size things by these alone, and
// the placement rules must be importable by job-spec.ts without a cycle back to it.
import { z } from "zod";

export const MAX_REPLICAS = 100_000;
export const MAX_PORTS_PER_TASK = 16;

export const resourcesSchema = z.strictObject({
  /** cores, fractions allowed */
  cpu: z.number().positive("cpu must be above 0").max(1024, "cpu is above 1024 cores"),
  /** bytes */
  ram: z.number().int().positive("ram must be above 0").max(2 ** 50, "ram is above 1 PiB"),
  /** bytes */
  disk: z.number().int().nonnegative("disk must not be negative").max(2 ** 53, "disk is too large"),
});
export type Resources = z.infer<typeof resourcesSchema>;

export const requirementsSchema = resourcesSchema.extend({
  /** how many ports from the machine's range the task gets (`%port%`, `%port1%`, …) */
  ports: z.number().int().min(0).max(MAX_PORTS_PER_TASK, `ports is above ${MAX_PORTS_PER_TASK}`),
});
export type Requirements = z.infer<typeof requirementsSchema>;

/** Matches `%port%` (the first port) and `%portN%`. */
export const PORT_PLACEHOLDER = /%port(\d*)%/g;

/** The highest port index a text refers to, or -1. */
export function highestPortReference(text: string): number {
  let highest = -1;
  for (const match of text.matchAll(PORT_PLACEHOLDER)) {
    const index = match[1] === "" || match[1] === undefined ? 0 : Number(match[1]);
    highest = Math.max(highest, index);
  }
  return highest;
}
