import { createSocket, type Socket } from "node:dgram";
import { createServer, isIP, type Server } from "node:net";
import * as dnsPacket from "dns-packet";
import { BNS_DOMAIN } from "@corral/contracts";
import type { Logger } from "@corral/kit";
import type { NameResolver } from "./name-table.js";

/**
 * Without EDNS, a UDP answer may be 512 bytes (RFC 1035); with it, what the client says it
 * takes, but never over 1,232 bytes (DNS Flag Day 2020): a big job's answer is cut and marked
 * truncated, and the client asks again over TCP. A query with a forged source address so
 * cannot turn this server into a many-times amplifier of a few bytes.
 */
const MAX_UDP_ANSWER = 1232;
function udpLimit(query: dnsPacket.Packet): number {
  const opt = (query.additionals ?? []).find((record) => record.type === "OPT") as { udpPayloadSize?: number } | undefined;
  return Math.max(512, Math.min(MAX_UDP_ANSWER, opt?.udpPayloadSize ?? 512));
}
/** Over TCP an answer may be as long as DNS allows (a two-byte length). */
const MAX_TCP_ANSWER = 65_535;
/** A TCP client that sends nothing for this long is closed (RFC 7766 suggests seconds). */
const TCP_IDLE_MS = 10_000;

/**
 * A reply that fits the client's limit: answers are dropped from the end (with their
 * additional records) and TC is set, so the client knows it got part of a large job.
 */
function fitted(base: { type: "response"; id: number; questions: dnsPacket.Question[]; flags: number }, answers: dnsPacket.Answer[], additionals: dnsPacket.Answer[], limit: number): Buffer {
  let kept = answers.length;
  for (;;) {
    const truncated = kept < answers.length;
    const packet = dnsPacket.encode({ ...base, flags: base.flags | (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0), answers: answers.slice(0, kept), additionals: truncated ? [] : additionals });
    if (packet.length <= limit || kept === 0) return packet;
    kept = Math.max(0, Math.min(kept - 1, Math.floor((kept * limit) / packet.length)));
  }
}

/** Names move with their tasks: resolvers should not keep them long. */
const TTL_S = 5;

/**
 * A DNS server for the cell's names (A and SRV over UDP and TCP; the packet codec is dns-packet's).
 * `dig @host -p PORT 0.hello_world.alice.local.corral` gives the task's address;
 * `dig SRV hello_world.alice.local.corral` every healthy task with its port. Names outside
 * the domain are refused: this is not a recursive resolver.
 */
export class DnsServer {
  private socket: Socket | undefined;
  private tcp: Server | undefined;

  constructor(
    private readonly names: NameResolver,
    private readonly log: Logger,
  ) {}

  async listen(host: string, port: number): Promise<number> {
    const socket = createSocket(isIP(host) === 6 ? "udp6" : "udp4");
    this.socket = socket;
    socket.on("message", (message, remote) => {
      const reply = this.answer(message);
      if (reply !== undefined) socket.send(reply, remote.port, remote.address);
    });
    socket.on("error", (error) => this.log.warn({ err: error.message }, "dns socket error"));
    await new Promise<void>((resolve) => socket.bind(port, host, resolve));
    const bound = socket.address().port;
    // TCP on the same port, for the answers UDP had to cut (RFC 7766).
    const tcp = createServer((connection) => {
      connection.setTimeout(TCP_IDLE_MS, () => connection.destroy());
      let pending = Buffer.alloc(0);
      connection.on("data", (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          const length = pending.readUInt16BE(0);
          const reply = this.answer(pending.subarray(2, 2 + length), MAX_TCP_ANSWER);
          pending = pending.subarray(2 + length);
          if (reply === undefined) {
            connection.destroy();
            return;
          }
          const framed = Buffer.alloc(2 + reply.length);
          framed.writeUInt16BE(reply.length, 0);
          reply.copy(framed, 2);
          connection.write(framed);
        }
      });
      connection.on("error", () => connection.destroy());
    });
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once("error", reject);
      tcp.listen(bound, host, () => resolve());
    });
    return bound;
  }

  close(): void {
    this.socket?.close();
    this.tcp?.close();
  }

  /** The reply to one query packet; undefined for what is not a query at all (dropped, as servers do). Over UDP unless `limit` says otherwise. */
  answer(message: Buffer, limit?: number): Buffer | undefined {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return undefined;
    }
    if (query.type !== "query") return undefined;
    const question = query.questions?.[0];
    const base = { type: "response" as const, id: query.id ?? 0, questions: query.questions ?? [], flags: dnsPacket.AUTHORITATIVE_ANSWER };
    if (question === undefined) return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | 1 /* FORMERR */ });
    const name = question.name.toLowerCase();
    if (name !== BNS_DOMAIN && !name.endsWith(`.${BNS_DOMAIN}`)) return dnsPacket.encode({ ...base, flags: 5 /* REFUSED */ });
    const resolved = this.names.resolve(name);
    if (resolved === undefined) return dnsPacket.encode({ ...base, flags: dnsPacket.AUTHORITATIVE_ANSWER | 3 /* NXDOMAIN */ });
    const ipv4 = resolved.tasks.filter((task) => isIP(task.host) === 4);
    const answers: dnsPacket.Answer[] = [];
    const additionals: dnsPacket.Answer[] = [];
    if (question.type === "A") {
      for (const task of ipv4) answers.push({ type: "A", name: question.name, ttl: TTL_S, data: task.host });
    } else if (question.type === "SRV") {
      for (const task of ipv4) {
        if (task.ports[0] === undefined) continue;
        answers.push({ type: "SRV", name: question.name, ttl: TTL_S, data: { priority: 0, weight: 1, port: task.ports[0], target: task.target } });
        additionals.push({ type: "A", name: task.target, ttl: TTL_S, data: task.host });
      }
    }
    // A known name with nothing of that type is NOERROR with no answers (NODATA), not NXDOMAIN.
    return fitted(base, answers, additionals, limit ?? udpLimit(query));
  }
}
