// Sign-in through an OpenID Connect issuer: a JWT from the issuer names a user, who must be a
// user of the cell (an admin added them); the cell's own role for them applies. The issuer
// proves who someone is; what they may do stays the cell's to say.
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { z } from "zod";
import { CorralError, userNameSchema } from "@corral/contracts";
import type { Logger } from "@corral/kit";

export interface OidcOptions {
  /** the issuer's URL, exactly as its tokens' `iss` says it */
  issuer: string;
  /** what the tokens' `aud` must include: this cell's client id at the issuer */
  audience: string;
  /** the claim that holds the user's name in the cell */
  usernameClaim: string;
}

const discoverySchema = z.object({ issuer: z.string(), jwks_uri: z.url() });

/** Whether a bearer token is a JWT rather than one of the cell's own (which start `corral_`). */
export function looksLikeJwt(token: string): boolean {
  return !token.startsWith("corral_") && token.split(".").length === 3;
}

export class OidcVerifier {
  private keys: Promise<JWTVerifyGetKey> | undefined;

  constructor(
    private readonly options: OidcOptions,
    private readonly log: Logger,
  ) {}

  /**
   * The user a JWT names, once its signature (by a key the issuer publishes), issuer,
   * audience and times check out; a token that does not is refused as unauthenticated,
   * saying which check failed (never the token).
   */
  async userOf(token: string): Promise<string> {
    const keys = await this.issuerKeys();
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(token, keys, { issuer: this.options.issuer, audience: this.options.audience, clockTolerance: 30 }));
    } catch (error) {
      const why =
        error instanceof errors.JWTExpired
          ? "it has expired"
          : error instanceof errors.JWTClaimValidationFailed
            ? `its '${error.claim}' claim is not what this cell expects (${error.reason})`
            : error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey
              ? `it is not signed by a key of ${this.options.issuer}`
              : (error as Error).message;
      throw new CorralError("unauthenticated", `the OIDC token was refused: ${why}`, "authorization");
    }
    const name = claims[this.options.usernameClaim];
    const parsed = userNameSchema.safeParse(name);
    if (!parsed.success) {
      throw new CorralError("unauthenticated", `the OIDC token's '${this.options.usernameClaim}' claim (${JSON.stringify(name) ?? "missing"}) is not a user name of this cell (${parsed.error.issues[0]!.message}); see --oidc-username-claim`, "authorization");
    }
    return parsed.data;
  }

  /** The issuer's signing keys, found through its discovery document once, then fetched (and refreshed) by jose as keys rotate. */
  private issuerKeys(): Promise<JWTVerifyGetKey> {
    this.keys ??= this.discover().catch((error: unknown) => {
      this.keys = undefined; // the next request asks again
      this.log.warn({ issuer: this.options.issuer, err: (error as Error).message }, "could not read the OIDC issuer's discovery document");
      throw new CorralError("unavailable", `the OIDC issuer ${this.options.issuer} could not be reached to check the token: ${(error as Error).message}`);
    });
    return this.keys;
  }

  private async discover(): Promise<JWTVerifyGetKey> {
    const url = `${this.options.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const discovery = discoverySchema.safeParse(await response.json());
    if (!discovery.success) throw new Error(`${url} is not an OpenID discovery document (${discovery.error.issues[0]!.path.join(".")})`);
    if (discovery.data.issuer !== this.options.issuer) throw new Error(`${url} names the issuer ${discovery.data.issuer}, not ${this.options.issuer}`);
    return createRemoteJWKSet(new URL(discovery.data.jwks_uri));
  }
}
