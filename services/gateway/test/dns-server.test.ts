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
  t.true(large.length <= 4096);
  t.true(dnsPacket.decode(large).answers!.length > small.answers!.length, "a larger EDNS buffer gets more");
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
