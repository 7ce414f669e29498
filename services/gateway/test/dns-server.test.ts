import test from "ava";
import * as dnsPacket from "dns-packet";
import { createLogger } from "@corral/kit";
import type { BnsRecord } from "@corral/contracts";
import { DnsServer } from "../src/dns-server.js";
import type { NameResolver } from "../src/name-table.js";

/** A job of `count` running tasks, as the name table resolves it (the table itself is tested against NATS in test/names.test.ts). */
function tableOf(count: number): NameResolver {
  const tasks = Array.from({ length: count }, (_, index) => ({ index, state: "running" as const, host: "10.0.0.1", ports: [20000 + index], target: `${index}.web.alice.local.corral` }));
  const record: BnsRecord = { job: "web", user: "alice", cell: "local", size: count, healthy: tasks.map((task) => task.index), tasks, updatedAt: 1 };
  return { resolve: (name: string) => (name.startsWith("web.alice.local.corral") ? { record, tasks } : undefined) };
}

const ask = (name: string, type: "A" | "SRV", udpPayloadSize?: number) =>
  dnsPacket.encode({ type: "query", id: 7, questions: [{ type, name }], ...(udpPayloadSize === undefined ? {} : { additionals: [{ type: "OPT", name: ".", udpPayloadSize }] }) } as dnsPacket.Packet);

const log = createLogger("test", "dns");
/** The response code: the low four bits of the flags (dns-packet's types leave out its decoded rcode). */
const rcode = (reply: Buffer) => dnsPacket.decode(reply).flags! & 0xf;

test("a job too large for one UDP answer is cut to the client's limit and marked truncated", (t) => {
  const server = new DnsServer(tableOf(100), log);
  const small = dnsPacket.decode(server.answer(ask("web.alice.local.corral", "SRV"))!);
  t.true((small.flags! & dnsPacket.TRUNCATED_RESPONSE) !== 0);
  t.true(dnsPacket.encode(small).length <= 512);
  t.true(small.answers!.length > 0 && small.answers!.length < 100);
  const large = server.answer(ask("web.alice.local.corral", "SRV", 4096))!;
  t.true(large.length <= 1232, "never more than 1,232 bytes over UDP, whatever the client offers");
  t.true(dnsPacket.decode(large).answers!.length > small.answers!.length, "a larger EDNS buffer gets more");
  t.true((dnsPacket.decode(large).flags! & dnsPacket.TRUNCATED_RESPONSE) !== 0, "and the rest over TCP");
});

test("over TCP, a large job's answer comes whole, framed by its length; several queries share a connection", async (t) => {
  const server = new DnsServer(tableOf(100), log);
  const port = await server.listen("127.0.0.1", 0);
  t.teardown(() => server.close());
  const { connect } = await import("node:net");
  const socket = connect(port, "127.0.0.1");
  t.teardown(() => socket.destroy());
  const frame = (packet: Buffer) => Buffer.concat([Buffer.from([packet.length >> 8, packet.length & 0xff]), packet]);
  socket.write(Buffer.concat([frame(ask("web.alice.local.corral", "SRV")), frame(ask("example.com", "A"))]));
  let received = Buffer.alloc(0);
  const replies: Buffer[] = await new Promise((resolve) => {
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const found: Buffer[] = [];
      let at = 0;
      while (received.length >= at + 2 && received.length >= at + 2 + received.readUInt16BE(at)) {
        found.push(received.subarray(at + 2, at + 2 + received.readUInt16BE(at)));
        at += 2 + received.readUInt16BE(at);
      }
      if (found.length === 2) resolve(found);
    });
  });
  const whole = dnsPacket.decode(replies[0]!);
  t.is(whole.answers!.length, 100);
  t.is(whole.flags! & dnsPacket.TRUNCATED_RESPONSE, 0);
  t.is(rcode(replies[1]!), 5, "REFUSED, on the same connection");
});

test("a small job is answered whole, with the tasks' addresses; other domains are refused; garbage is dropped", (t) => {
  const server = new DnsServer(tableOf(3), log);
  const answer = dnsPacket.decode(server.answer(ask("web.alice.local.corral", "SRV"))!);
  t.is((answer.flags! & dnsPacket.TRUNCATED_RESPONSE), 0);
  t.is(answer.answers!.length, 3);
  t.is(answer.additionals!.length, 3);
  t.is(rcode(server.answer(ask("web.alice.local.corral", "SRV"))!), 0, "NOERROR");
  t.is(rcode(server.answer(ask("example.com", "A"))!), 5, "REFUSED");
  t.is(rcode(server.answer(ask("db.alice.local.corral", "A"))!), 3, "NXDOMAIN");
  t.is(server.answer(Buffer.from("not dns")), undefined);
});
