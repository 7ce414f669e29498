// A local cell's own certificate authority and the certificate its servers present, made
// with openssl (a real tool for the job), on the first start with TLS and kept after.
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { systemExecutable } from "./executables.js";

/** The files of a cell's TLS: its CA (which every client trusts) and the servers' certificate and key. */
export interface CellTls {
  /** the CA's certificate: what --tls-ca names */
  ca: string;
  /** the certificate the cell's servers (NATS, the gateway) present, signed by the CA */
  cert: string;
  /** its private key, mode 600 */
  key: string;
}

const DAYS = 825;

/**
 * The cell's CA and server certificate in `DIR/tls/`, for `addresses` (IPs and names the
 * servers are reached at: loopback and, in a multi-host cell, every host's address). Kept
 * across starts; a certificate that no longer names every address, or is close to its end,
 * is made again (the CA stays, so clients keep trusting it).
 */
export function ensureCellTls(dir: string, addresses: readonly string[]): CellTls {
  const tlsDir = join(dir, "tls");
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  const files: CellTls = { ca: join(tlsDir, "ca.crt"), cert: join(tlsDir, "server.crt"), key: join(tlsDir, "server.key") };
  const caKey = join(tlsDir, "ca.key");
  const openssl = systemExecutable("openssl");
  if (!existsSync(files.ca) || !existsSync(caKey)) {
    run(openssl, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", caKey, "-out", files.ca, "-days", String(DAYS), "-subj", "/CN=corral local cell CA"]);
    // In a directory only the owner enters, and then the owner's alone, as every secret of the cell.
    chmodSync(caKey, 0o600);
  }
  if (!existsSync(files.cert) || !existsSync(files.key) || !coversAll(files.cert, addresses)) {
    const request = join(tlsDir, "server.csr");
    const extensions = join(tlsDir, "server.ext");
    const names = [...new Set(["localhost", "127.0.0.1", ...addresses])].map((address) => (/^[0-9.]+$/.test(address) || address.includes(":") ? `IP:${address}` : `DNS:${address}`));
    writeFileSync(extensions, `subjectAltName=${names.join(",")}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    run(openssl, ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", files.key, "-out", request, "-subj", "/CN=corral cell servers"]);
    run(openssl, ["x509", "-req", "-in", request, "-CA", files.ca, "-CAkey", caKey, "-CAcreateserial", "-out", files.cert, "-days", String(DAYS), "-extfile", extensions]);
    rmSync(request, { force: true });
    chmodSync(files.key, 0o600);
  }
  return files;
}

function run(openssl: string, args: string[]): void {
  try {
    execFileSync(openssl, args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    const said = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl ${args[0]} failed making the cell's TLS files: ${said || (error as Error).message}`);
  }
}

/** Whether the certificate names every address and has a month left. */
function coversAll(certFile: string, addresses: readonly string[]): boolean {
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    const names = cert.subjectAltName ?? "";
    const monthLeft = new Date(cert.validTo).getTime() - Date.now() > 30 * 24 * 3600_000;
    return monthLeft && addresses.every((address) => names.includes(`IP Address:${address}`) || names.includes(`DNS:${address}`));
  } catch {
    return false;
  }
}

/** The CA certificate (PEM) a started cell's clients trust, when it runs TLS. */
export function cellCaOf(cell: { tls?: CellTls | undefined }): string | undefined {
  return cell.tls === undefined ? undefined : readFileSync(cell.tls.ca, "utf8");
}
