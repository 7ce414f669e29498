import { createHash } from "node:crypto";
import type { Heartbeat } from "./messages.js";

/**
 * What the leader must know of a machine beyond its tasks (where it runs, its shape, the
 * epoch it obeys), as one short string: a link shard reports a machine as alive with this,
 * and the leader asks for the whole heartbeat only when it differs from what it holds.
 */
export function machineDigest(hb: Heartbeat): string {
  const shape = [hb.host, hb.pid, hb.startedAt, hb.epochSeen, hb.capacity.cpu, hb.capacity.ram, hb.capacity.disk, hb.portRange[0], hb.portRange[1]];
  const attributes = Object.keys(hb.attributes)
    .sort()
    .map((key) => `${key}=${hb.attributes[key]}`);
  return createHash("sha1").update(JSON.stringify([shape, attributes])).digest("base64url");
}
