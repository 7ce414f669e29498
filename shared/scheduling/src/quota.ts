import { fitsIn } from "./fit.js";
import type { PriorityBand, Resources } from "@corral/contracts";

/** Bands that have quota; best-effort work needs none (Borg §2.5: it runs on what is left). */
export const QUOTA_BANDS = ["monitoring", "production", "batch"] as const;
export type QuotaBand = (typeof QUOTA_BANDS)[number];

export type BandQuotas = Partial<Record<QuotaBand, Resources>>;

/** A cell's quota: per user per band, with defaults for users without their own. */
export interface QuotaTable {
  defaults: BandQuotas;
  users: Readonly<Record<string, BandQuotas>>;
}

export interface QuotaExcess {
  resource: keyof Resources;
  limit: number;
  /** what the user would hold in the band with the job */
  wouldUse: number;
}

/** The user's quota in the band; a band with no quota granted is zero, best-effort is unlimited. */
export function quotaFor(table: QuotaTable, user: string, band: PriorityBand): Resources | undefined {
  if (band === "best-effort") return undefined;
  return table.users[user]?.[band] ?? table.defaults[band] ?? { cpu: 0, ram: 0, disk: 0 };
}

/** The resources a job would take past the user's quota; empty when it fits. */
export function quotaExcess(limit: Resources, inUse: Resources, asked: Resources): QuotaExcess[] {
  const excess: QuotaExcess[] = [];
  for (const resource of ["cpu", "ram", "disk"] as const) {
    const wouldUse = inUse[resource] + asked[resource];
    if (!fitsIn(resource, wouldUse, limit[resource])) excess.push({ resource, limit: limit[resource], wouldUse });
  }
  return excess;
}
