import test from "ava";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { TestCell } from "@corral/testkit";

// A real OpenID Connect issuer's side, as small as can be: its discovery document and its
// keys over HTTP, and tokens signed with them. The gateway finds and checks them with jose.
const AUDIENCE = "corral-test";
let cell: TestCell;
let issuerServer: Server;
let issuer: string;
let signingKey: CryptoKey;
const KID = "k1";

test.before(async () => {
  const pair = await generateKeyPair("ES256");
  signingKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: "ES256", use: "sig" };
  issuerServer = createServer((request, response) => {
    const body = request.url === "/.well-known/openid-configuration" ? { issuer, jwks_uri: `${issuer}/keys` } : request.url === "/keys" ? { keys: [jwk] } : undefined;
    response.writeHead(body === undefined ? 404 : 200, { "content-type": "application/json" });
    response.end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => issuerServer.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
  cell = await TestCell.start("oidc", { masters: 1, borglets: 1, oidc: { issuer, audience: AUDIENCE } });
  await cell.client.addUser("alice", "user");
});
test.after.always(async () => {
  await cell?.stop();
  issuerServer?.close();
});

function token(claims: Record<string, unknown>, options: { key?: CryptoKey; audience?: string; issuer?: string; expiresIn?: string } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: KID })
    .setIssuer(options.issuer ?? issuer)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "5m")
    .sign(options.key ?? signingKey);
}

const whoami = async (bearer: string) => cell.clientWith(bearer).send<{ user?: { name: string; role: string }; error?: { code: string; message: string } }>("GET", "/v1/whoami");

test("a token from the issuer signs a user of the cell in, with the role the cell gave them", async (t) => {
  const reply = await whoami(await token({ preferred_username: "alice" }));
  t.is(reply.status, 200, JSON.stringify(reply.body));
  t.deepEqual(reply.body.user, { name: "alice", role: "user" });
  // The cell's own tokens go on working beside it.
  t.is((await cell.client.send("GET", "/v1/whoami")).status, 200);
});

test("a token that is expired, for another audience or issuer, or signed by another key is refused, saying which", async (t) => {
  const other = (await generateKeyPair("ES256")).privateKey;
  const cases: [string, Promise<string>, RegExp][] = [
    ["expired", token({ preferred_username: "alice" }, { expiresIn: "-5m" }), /expired/],
    ["another audience", token({ preferred_username: "alice" }, { audience: "someone-else" }), /'aud' claim/],
    ["another issuer", token({ preferred_username: "alice" }, { issuer: "https://evil.example" }), /'iss' claim/],
    ["another key", token({ preferred_username: "alice" }, { key: other }), /not signed by a key of/],
  ];
  for (const [what, signed, why] of cases) {
    const reply = await whoami(await signed);
    t.is(reply.status, 401, what);
    t.is(reply.body.error?.code, "unauthenticated", what);
    t.regex(reply.body.error?.message ?? "", why, what);
  }
});

test("someone the issuer vouches for but the cell does not know is refused; a name the cell cannot take is named", async (t) => {
  const stranger = await whoami(await token({ preferred_username: "mallory" }));
  t.is(stranger.status, 403);
  t.regex(stranger.body.error?.message ?? "", /mallory signed in through OIDC but is not a user of this cell; an admin adds them with: corral user add mallory/);
  const odd = await whoami(await token({ preferred_username: "Not A Name" }));
  t.is(odd.status, 401);
  t.regex(odd.body.error?.message ?? "", /'preferred_username' claim/);
});
