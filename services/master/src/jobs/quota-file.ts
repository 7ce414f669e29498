// A cell's quota file, read at start; admission (admit-job.ts) holds jobs to it.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { describeZodError, userNameSchema } from "@corral/contracts";
import { QUOTA_BANDS, type QuotaTable } from "@corral/scheduling";
import { parseCpu, parseSize } from "@corral/spec";

const amount = (parse: (text: string | number) => number) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    try {
      return parse(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  });

const quotaSchema = z.strictObject({
  cpu: amount(parseCpu),
  ram: amount(parseSize),
  /** left out: disk is not limited */
  disk: amount(parseSize).optional(),
});

const bandsSchema = z.strictObject(Object.fromEntries(QUOTA_BANDS.map((band) => [band, quotaSchema.optional()])) as Record<(typeof QUOTA_BANDS)[number], z.ZodOptional<typeof quotaSchema>>);

const quotaFileSchema = z.strictObject({
  defaults: bandsSchema.default({}),
  users: z.record(userNameSchema, bandsSchema).default({}),
});

/**
 * Reads a cell's quota file (YAML or JSON): per user per band, cpu, ram and optionally
 * disk, with defaults for everyone else. An error names the file and the field.
 */
export function loadQuotaFile(file: string): QuotaTable {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`cannot read quota file ${file}: ${(error as Error).message}`);
  }
  const parsed = quotaFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problem = describeZodError(parsed.error);
    throw new Error(`quota file ${file}: ${problem.message}`);
  }
  const withDisk = (bands: z.infer<typeof bandsSchema>) =>
    Object.fromEntries(Object.entries(bands).filter(([, quota]) => quota !== undefined).map(([band, quota]) => [band, { ...quota!, disk: quota!.disk ?? Infinity }]));
  return {
    defaults: withDisk(parsed.data.defaults),
    users: Object.fromEntries(Object.entries(parsed.data.users).map(([user, bands]) => [user, withDisk(bands)])),
  };
}
