import { z } from "zod";
import { userNameSchema } from "./names.js";

/**
 * Who may do what: an admin everything (users, nodes, anyone's jobs); a user their own
 * jobs, and reads of everyone's; a viewer reads only.
 */
export const ROLES = ["admin", "user", "viewer"] as const;
export const roleSchema = z.enum(ROLES, { error: `a role: one of ${ROLES.join(", ")}` });
export type Role = z.infer<typeof roleSchema>;

/** Who a request acts as, once its token checked out. */
export interface Identity {
  name: string;
  role: Role;
}

/** The KV bucket of a cell's users: one `user.<name>` record each, holding a hash of its token, never the token. */
export function usersBucket(cell: string): string {
  return `corral_${cell}_users`;
}

export const userRecordSchema = z.strictObject({
  name: userNameSchema,
  role: roleSchema,
  /** sha256 of the token, hex: the token itself is shown once, to whoever made it */
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.string(),
  createdBy: userNameSchema,
});
export type UserRecord = z.infer<typeof userRecordSchema>;

/** A user as the API shows one: no hash. */
export type UserView = Omit<UserRecord, "tokenSha256">;

/** `POST /v1/users`. */
export const addUserBodySchema = z.strictObject({ name: userNameSchema, role: roleSchema });
