import type { FastifyInstance, FastifyRequest } from "fastify";
import { CorralError, type Identity } from "@corral/contracts";
import { bearerToken } from "@corral/kit";
import type { UserRegistry } from "./user-registry.js";
import { looksLikeJwt, type OidcVerifier } from "./oidc.js";

declare module "fastify" {
  interface FastifyRequest {
    /** who sent it: set for every request past authentication */
    identity: Identity;
  }
}

/** What anyone may fetch: the gateway's health and the UI's own files (the UI asks for a token before it shows anything). */
function isPublic(method: string, path: string): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  return path === "/v1/healthz" || path === "/" || path === "/ui" || path.startsWith("/ui/");
}

const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * A browser sends Origin (and Sec-Fetch-Site) with a cross-site request. Bearer tokens are
 * not sent by browsers on their own, so a forged form post has no token anyway; refusing
 * cross-site changes outright also covers a page that got hold of one.
 */
function crossSite(request: FastifyRequest): string | undefined {
  const site = request.headers["sec-fetch-site"];
  if (site === "cross-site") return "a browser marked it cross-site";
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return `its Origin '${origin}' is not a URL`;
  }
  return originHost === request.headers.host ? undefined : `it comes from ${origin}, not from this gateway (${request.headers.host ?? "no Host"})`;
}

/**
 * Every request but the public ones must carry `Authorization: Bearer <token>` of a known
 * user (401 `unauthenticated` otherwise), and changes must come from this gateway's own
 * pages or from outside a browser (403 `forbidden`). Both are checked before the body is
 * read, so a refused request costs little and changes nothing.
 */
export function requireIdentity(app: FastifyInstance, users: UserRegistry, oidc?: OidcVerifier): void {
  app.decorateRequest("identity", undefined as unknown as Identity);
  app.addHook("onRequest", async (request) => {
    const path = request.url.split("?")[0] ?? "";
    if (isPublic(request.method, path)) return;
    if (!SAFE_METHODS.has(request.method)) {
      const why = crossSite(request);
      if (why !== undefined) throw new CorralError("forbidden", `${request.method} ${path} refused: ${why}; changes are not taken from other sites`, "origin");
    }
    const bearer = bearerToken(request.headers.authorization);
    if ("missing" in bearer) throw new CorralError("unauthenticated", bearer.missing, "authorization");
    if (oidc !== undefined && looksLikeJwt(bearer.token)) {
      const name = await oidc.userOf(bearer.token);
      const known = users.named(name);
      if (known === undefined) throw new CorralError("forbidden", `${name} signed in through OIDC but is not a user of this cell; an admin adds them with: corral user add ${name} --role user`, "authorization");
      request.identity = known;
      return;
    }
    const identity = users.identify(bearer.token);
    if (identity === undefined) throw new CorralError("unauthenticated", "the bearer token is not one this cell issued, or it was revoked; ask an admin for a new one (corral user add)", "authorization");
    request.identity = identity;
  });
}
