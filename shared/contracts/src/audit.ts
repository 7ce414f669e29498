import { z } from "zod";
import { roleSchema } from "./identity.js";
import { userNameSchema } from "./names.js";

/** The cell's audit stream: every change asked of it through a gateway, allowed or not. */
export function auditStream(cell: string): string {
  return `corral_${cell}_audit`;
}

/** The subject token of a request nobody could be named for (no token, or a bad one). */
export const UNKNOWN_CALLER = "-";

export const auditRecordSchema = z.strictObject({
  at: z.string(),
  /** who asked: absent when the request named nobody known */
  user: userNameSchema.optional(),
  role: roleSchema.optional(),
  /** what: `job.submit`, `job.kill`, `job.scale`, `user.add`, `user.revoke`, `image.push`, `image.layer`, or METHOD PATH for anything else */
  action: z.string().max(300),
  /** which job or user it was about, as far as the request said */
  target: z.string().max(300).optional(),
  /** the client's address as the gateway saw it */
  address: z.string().max(100),
  status: z.number().int(),
  outcome: z.enum(["ok", "refused", "failed"]),
  /** the error code of a refusal or failure */
  code: z.string().max(50).optional(),
  gateway: z.string().max(200),
});
export type AuditRecord = z.infer<typeof auditRecordSchema>;
