import { createHash, randomBytes } from "node:crypto";

/** A bearer token: 256 random bits, prefixed so a leaked one is recognisable (as GitHub's are). */
export function newToken(): string {
  return `corral_${randomBytes(32).toString("base64url")}`;
}

/**
 * What is stored of a token. A plain sha256 is enough, and a slow hash would buy nothing:
 * the tokens are random, so there is no dictionary to try, and every request checks one.
 */
export function tokenSha256(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The token of `Authorization: Bearer <token>`, or why there is none. */
export function bearerToken(header: string | undefined): { token: string } | { missing: string } {
  if (header === undefined || header === "") return { missing: "no Authorization header: send 'Authorization: Bearer <token>' (corral auth token prints yours)" };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) return { missing: "the Authorization header is not 'Bearer <token>'" };
  return { token: match[1]! };
}
