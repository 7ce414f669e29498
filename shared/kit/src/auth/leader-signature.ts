import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { readSecretPem } from "../secret-file.js";

/**
 * A leader proves its term to the machines: it signs "leader of <cell> at epoch <n>" with the
 * masters' key (ed25519), and a borglet takes a new epoch only with a signature its public
 * key verifies. Whoever can publish a machine's commands still cannot make up an epoch, so
 * a forged huge one cannot fence the real leader out. One signature per term, not per
 * message: verifying is done once per new epoch.
 */
const termText = (cell: string, epoch: number) => new TextEncoder().encode(`corral leader of ${cell} at epoch ${epoch}`);

/** A new key pair, PEM: the private key for the masters (mode 600), the public one for every borglet. */
export function newLeaderKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), publicKey: publicKey.export({ type: "spki", format: "pem" }).toString() };
}

export class LeaderSigner {
  private constructor(private readonly key: KeyObject) {}

  /** The masters' private key from its file (mode 600, PEM). */
  static fromFile(path: string, flag = "--leader-key-file"): LeaderSigner {
    const pem = readSecretPem(path, flag);
    return new LeaderSigner(checkedKey(() => createPrivateKey(pem), path, flag));
  }

  static fromPem(pem: string): LeaderSigner {
    return new LeaderSigner(createPrivateKey(pem));
  }

  /** The term's signature, base64url: sent with every command of the term. */
  signTerm(cell: string, epoch: number): string {
    return sign(null, termText(cell, epoch), this.key).toString("base64url");
  }
}

export class LeaderVerifier {
  /** the last term that verified: every command of a term carries the same signature, so it is checked once */
  private verified: { cell: string; epoch: number; signature: string } | undefined;

  private constructor(private readonly key: KeyObject) {}

  /** The masters' public key from its file (PEM; not a secret). */
  static fromFile(path: string, flag = "--leader-public-key-file"): LeaderVerifier {
    return new LeaderVerifier(checkedKey(() => createPublicKey(readFileSync(path)), path, flag));
  }

  static fromPem(pem: string): LeaderVerifier {
    return new LeaderVerifier(createPublicKey(pem));
  }

  verifiesTerm(cell: string, epoch: number, signature: string): boolean {
    const last = this.verified;
    if (last !== undefined && last.epoch === epoch && last.signature === signature && last.cell === cell) return true;
    let good: boolean;
    try {
      good = verify(null, termText(cell, epoch), this.key, Buffer.from(signature, "base64url"));
    } catch {
      good = false;
    }
    if (good) this.verified = { cell, epoch, signature };
    return good;
  }
}

function checkedKey(load: () => KeyObject, path: string, flag: string): KeyObject {
  let key: KeyObject;
  try {
    key = load();
  } catch (error) {
    throw new Error(`${flag}: ${path} is not a PEM key: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new Error(`${flag}: ${path} holds a ${key.asymmetricKeyType} key; the leader's key is ed25519 (corral cell credentials makes one)`);
  return key;
}
