// What each kind of NATS client of a cell may publish and subscribe to: the server enforces
// it (docs/architecture.md § Identity, NATS). Built from the same subjects and stream names
// the services use, so a new subject is granted where it is defined, or refused.
import { auditStream } from "./audit.js";
import { bnsBucket } from "./bns.js";
import { FEDERATION_BUCKET } from "./federation.js";
import { historyStream } from "./history.js";
import { usersBucket } from "./identity.js";
import { imageBucketName, layerBucketName, uploadBucketName } from "./image-buckets.js";
import { subjects } from "./subjects.js";

/**
 * The kinds of client. `operator` is the cell owner's own tools (the CLI's image commands,
 * tests, the load harness): everything. `hollow` is a load-test process that plays many
 * machines at once, so it may act as any machine of its cell.
 */
export const NATS_ROLES = ["master", "scheduler", "gateway", "borglet", "hollow", "submitter", "operator"] as const;
export type NatsRole = (typeof NATS_ROLES)[number];

/** One client's grant, as nats-server's `permissions` block has it. */
export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
  /** may answer the requests it receives (publish once to each reply subject) */
  allowResponses: boolean;
}

/** Who a client is: its role and what the role is scoped to. */
export type NatsGrant =
  | { role: "master" | "scheduler" | "hollow" | "operator"; cell: string }
  | { role: "borglet"; cell: string; node: string }
  /** a gateway and the cells it serves: its own first, then any it federates */
  | { role: "gateway"; cells: readonly string[] }
  /** a producer on the submit stream, whose submissions are owned by `user` */
  | { role: "submitter"; cell: string; user: string };

/**
 * Where a client's requests get their replies: the inbox prefix is its own, and only it may
 * subscribe there, so no other client reads its replies. The public key is unique per client.
 */
export function inboxPrefixOf(publicKey: string): string {
  return `_INBOX.${publicKey}`;
}

const API = "$JS.API";

/** Read a stream: look it up, get messages, and follow it with consumers of one's own. */
function readStream(stream: string): string[] {
  return [
    `${API}.INFO`,
    `${API}.STREAM.INFO.${stream}`,
    `${API}.STREAM.MSG.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}.>`,
    `${API}.CONSUMER.CREATE.${stream}`,
    `${API}.CONSUMER.CREATE.${stream}.>`,
    `${API}.CONSUMER.INFO.${stream}.*`,
    `${API}.CONSUMER.DELETE.${stream}.*`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.*`,
    `$JS.ACK.${stream}.>`,
    `$JS.FC.${stream}.>`,
  ];
}

/** Create or update a stream (a bucket opened first by this client is made by it). */
function manageStream(stream: string): string[] {
  return [`${API}.STREAM.CREATE.${stream}`, `${API}.STREAM.UPDATE.${stream}`];
}

/** A KV bucket's stream and the subjects its keys are written on. */
const kvStream = (bucket: string) => `KV_${bucket}`;
const kvWrites = (bucket: string) => `$KV.${bucket}.>`;
const objectStream = (bucket: string) => `OBJ_${bucket}`;
/** An object store's chunks and metadata, and the purge that drops an object's old chunks when it is replaced or deleted. */
const objectWrites = (bucket: string) => [`$O.${bucket}.>`, `${API}.STREAM.PURGE.${objectStream(bucket)}`];

function ownCell(cell: string): string {
  return `corral.${cell}`;
}

export function natsPermissions(grant: NatsGrant, publicKey: string): NatsPermissions {
  const inbox = `${inboxPrefixOf(publicKey)}.>`;
  switch (grant.role) {
    case "operator":
      return { publish: [">"], subscribe: [">"], allowResponses: true };
    case "master": {
      const { cell } = grant;
      // The leader is the cell: it writes every subject and stream of its cell, and only it
      // (and its standbys) may send machines their leases.
      return {
        publish: [`${ownCell(cell)}.>`, `${API}.>`, "$JS.ACK.>", "$JS.FC.>", kvWrites(bnsBucket(cell))],
        subscribe: [`${ownCell(cell)}.>`, inbox],
        allowResponses: true,
      };
    }
    case "scheduler": {
      const { cell } = grant;
      return {
        publish: [subjects.schedWork(cell), subjects.schedPlan(cell)],
        subscribe: [subjects.schedKick(cell), inbox],
        allowResponses: false,
      };
    }
    case "borglet":
    case "hollow": {
      const { cell } = grant;
      const node = grant.role === "borglet" ? grant.node : "*";
      return {
        publish: [subjects.nodeHeartbeat(cell, node), subjects.nodeEvents(cell, node), ...readStream(kvStream(imageBucketName(cell))), ...readStream(objectStream(layerBucketName(cell)))],
        subscribe: [subjects.nodeCommands(cell, node), subjects.nodeHeartbeatWanted(cell, node), subjects.nodeLogs(cell, node), inbox],
        // it answers requests for its tasks' logs
        allowResponses: true,
      };
    }
    case "gateway": {
      const publish = new Set<string>();
      const subscribe = new Set<string>([inbox]);
      for (const cell of grant.cells) {
        for (const subject of [subjects.apiAny(cell), subjects.readAny(cell), subjects.nodeLogs(cell, "*"), subjects.auditAll(cell)]) publish.add(subject);
        for (const stream of [historyStream(cell), auditStream(cell), kvStream(usersBucket(cell)), kvStream(bnsBucket(cell))]) readStream(stream).forEach((subject) => publish.add(subject));
        for (const stream of [auditStream(cell), kvStream(usersBucket(cell)), kvStream(bnsBucket(cell))]) manageStream(stream).forEach((subject) => publish.add(subject));
        publish.add(kvWrites(usersBucket(cell)));
        // Images are pushed through it (routes/images.ts): it keeps the catalog, the layers and the uploads' parts.
        for (const stream of [kvStream(imageBucketName(cell)), objectStream(layerBucketName(cell)), objectStream(uploadBucketName(cell))]) {
          [...readStream(stream), ...manageStream(stream)].forEach((subject) => publish.add(subject));
        }
        [kvWrites(imageBucketName(cell)), ...objectWrites(layerBucketName(cell)), ...objectWrites(uploadBucketName(cell))].forEach((subject) => publish.add(subject));
        subscribe.add(subjects.taskEvents(cell));
        subscribe.add(subjects.leaderServing(cell));
      }
      if (grant.cells.length > 1) {
        [...readStream(kvStream(FEDERATION_BUCKET)), ...manageStream(kvStream(FEDERATION_BUCKET)), kvWrites(FEDERATION_BUCKET)].forEach((subject) => publish.add(subject));
      }
      return { publish: [...publish], subscribe: [...subscribe], allowResponses: false };
    }
    case "submitter": {
      const { cell, user } = grant;
      return {
        publish: [subjects.submitStream(cell, user)],
        // outcomes are named by the producer's own submission id
        subscribe: [subjects.submissionOutcome(cell, "*"), inbox],
        allowResponses: false,
      };
    }
  }
}
