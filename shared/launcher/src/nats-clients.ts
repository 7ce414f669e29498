// The NATS clients of a cell the launcher starts: one NKey each, kept in the cell's
// directory, and the authorization block every nats-server of the cell includes.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { NATS_ROLES, natsPermissions, type NatsGrant } from "@corral/contracts";
import { natsPublicKeyOf, newNatsSeed, readSecretFile } from "@corral/kit";

/** Where a cell keeps its clients' seeds and the servers' authorization config. */
export interface NatsAuth {
  /** one `<client>.nk` seed file per client, mode 600, in a directory only its owner enters */
  dir: string;
  /** the authorization block (public keys and permissions only), included by every server's config */
  config: string;
}

export interface NatsClient {
  /** the process's name in the cell (`master-0`, `a-borglet-1`), which is also its seed file's */
  name: string;
  grant: NatsGrant;
}

/** The operator's client: the cell owner's tools (image commands, tests, load harness). */
export const OPERATOR_CLIENT = "operator";

export function natsAuthOf(dir: string): NatsAuth {
  return { dir: join(dir, "nats-credentials"), config: join(dir, "nats-auth.conf") };
}

export function natsCredentialsFile(auth: NatsAuth, client: string): string {
  return join(auth.dir, `${client}.nk`);
}

/**
 * Every client's seed, made on the first start and kept after (a cell brought down and up
 * keeps its identities), and the servers' authorization config, written whole from the
 * cell's list of clients (`clients.json` beside the seeds). `mode: "add"` keeps the clients
 * listed before (a machine joining a running cell); `"replace"` lists exactly these (a start).
 */
export function authorizeNatsClients(auth: NatsAuth, clients: readonly NatsClient[], mode: "add" | "replace"): void {
  mkdirSync(auth.dir, { recursive: true, mode: 0o700 });
  const listed = new Map<string, NatsClient>(mode === "add" ? listedClients(auth).map((client) => [client.name, client]) : []);
  for (const client of clients) listed.set(client.name, client);
  const entries: string[] = [];
  for (const client of listed.values()) {
    const file = natsCredentialsFile(auth, client.name);
    if (!existsSync(file)) writeFileSync(file, `${newNatsSeed()}\n`, { mode: 0o600, flag: "wx" });
    entries.push(userEntry(client, natsPublicKeyOf(readSecretFile(file, `the NATS credentials of ${client.name}`))));
  }
  writeWhole(clientListFile(auth), JSON.stringify([...listed.values()], null, 2) + "\n");
  writeWhole(
    auth.config,
    [
      "# Written by corral's launcher (shared/launcher/src/nats-clients.ts): every client of the",
      "# cell, by the public half of its NKey, with what it may publish and subscribe to",
      "# (shared/contracts/src/nats-permissions.ts). A client not listed here is refused.",
      "authorization {",
      "  users = [",
      ...entries,
      "  ]",
      "}",
      "",
    ].join("\n"),
  );
}

const clientListFile = (auth: NatsAuth) => join(auth.dir, "clients.json");

function writeWhole(path: string, text: string): void {
  const partial = `${path}.partial`;
  writeFileSync(partial, text);
  renameSync(partial, path);
}

const quoted = (value: string) => JSON.stringify(value);
const list = (values: readonly string[]) => `[${values.map(quoted).join(", ")}]`;

function userEntry(client: NatsClient, publicKey: string): string {
  const { publish, subscribe, allowResponses } = natsPermissions(client.grant, publicKey);
  return [
    `    # ${client.name}: ${client.grant.role}`,
    `    { nkey: ${quoted(publicKey)}, permissions: { publish: { allow: ${list(publish)} }, subscribe: { allow: ${list(subscribe)} }${allowResponses ? ", allow_responses: true" : ""} } }`,
  ].join("\n");
}

/** The clients listed so far: the launcher's own file, so a shape it does not know is an error, not a guess. */
function listedClients(auth: NatsAuth): NatsClient[] {
  const path = clientListFile(auth);
  if (!existsSync(path)) return [];
  const parsed = z.array(natsClientSchema).safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success) throw new Error(`${path} is not a list of NATS clients written by corral: ${parsed.error.message}`);
  return parsed.data as NatsClient[];
}

const natsClientSchema = z.object({ name: z.string(), grant: z.object({ role: z.enum(NATS_ROLES) }).passthrough() });
