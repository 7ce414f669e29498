import { nkeyAuthenticator, nkeys, type Authenticator } from "@nats-io/transport-node";
import { inboxPrefixOf } from "@corral/contracts";
import { readSecretFile } from "../secret-file.js";

/**
 * How one client signs in to NATS: an NKey (an ed25519 key pair) whose public half the
 * server's config lists with the client's permissions. The seed never leaves its file and
 * never crosses the network: the server sends a nonce and the client signs it.
 */
export interface NatsCredentials {
  authenticator: Authenticator;
  publicKey: string;
  /** where its requests get their replies: its own, so only it reads them */
  inboxPrefix: string;
}

/** A new user NKey seed (text starting "SU"), for a credentials file. */
export function newNatsSeed(): string {
  return new TextDecoder().decode(nkeys.createUser().getSeed());
}

/** The public key ("U…") of a seed, as the server config names the client. */
export function natsPublicKeyOf(seed: string): string {
  try {
    return nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();
  } catch (error) {
    throw new Error(`not an NKey seed (a line starting "SU"): ${(error as Error).message}`);
  }
}

/** A client's credentials from its seed file (mode 600, the seed on its first line). */
export function readNatsCredentials(path: string, flag = "--nats-credentials"): NatsCredentials {
  const seed = readSecretFile(path, flag);
  let publicKey: string;
  try {
    publicKey = natsPublicKeyOf(seed);
  } catch (error) {
    throw new Error(`${flag}: ${path} is ${(error as Error).message}`);
  }
  return { authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)), publicKey, inboxPrefix: inboxPrefixOf(publicKey) };
}
