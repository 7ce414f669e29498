import test from "ava";
import fc from "fast-check";
import { CorralError, decode, encode, heartbeat, open, seal, submitJob } from "../index.js";

const HEARTBEAT = {
  node: "borglet-0",
  host: "127.0.0.1",
  pid: 1234,
  capacity: { cpu: 2, ram: 8 * 1024 ** 3, disk: 10 * 1024 ** 3 },
  attributes: { rack: "r1" },
  portRange: [20000, 20099] as [number, number],
  startedAt: 1,
  seq: 7,
  epochSeen: 3,
  tasks: [{ taskId: "0.hello_world.alice.local", incarnation: 2, state: "running" as const, pid: 99, ports: [20000] }],
};

test("an envelope survives encode and decode unchanged", (t) => {
  const envelope = open(seal("node.heartbeat", "local", HEARTBEAT, 4), "node.heartbeat", "local", heartbeat.body);
  t.deepEqual(envelope.body, HEARTBEAT);
  t.is(envelope.epoch, 4);
  t.is(envelope.cell, "local");
  t.is(envelope.v, 1);
});

test("a fresh decoder reads any message on its own (no learned structures)", (t) => {
  const first = seal("node.heartbeat", "local", HEARTBEAT);
  const second = seal("node.heartbeat", "local", { ...HEARTBEAT, seq: 8 });
  t.is((open(second, "node.heartbeat", "local", heartbeat.body).body as typeof HEARTBEAT).seq, 8);
  t.is((open(first, "node.heartbeat", "local", heartbeat.body).body as typeof HEARTBEAT).seq, 7);
});

function hasProtoKey(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  return Object.keys(value).some((key) => key === "__proto__" || hasProtoKey((value as Record<string, unknown>)[key]));
}

test("arbitrary values round-trip through the codec (but for __proto__ keys, see below)", (t) => {
  fc.assert(
    fc.property(fc.jsonValue().filter((value) => !hasProtoKey(value)), (value) => {
      t.deepEqual(decode(encode(value)), JSON.parse(JSON.stringify(value)));
    }),
    { numRuns: 300 },
  );
});

test("a __proto__ key from the network cannot pollute prototypes (msgpackr renames it)", (t) => {
  const hostile = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>;
  const decoded = decode(encode(hostile)) as Record<string, unknown>;
  t.is(Object.getPrototypeOf(decoded), Object.prototype);
  t.is((decoded as { polluted?: unknown }).polluted, undefined);
  t.is(({} as { polluted?: unknown }).polluted, undefined);
  t.is(decoded["ok"], 1);
});

test("open refuses wrong type, wrong cell and a bad body with bad_request naming the field", (t) => {
  const bytes = seal("api.submit", "local", { spec: {}, user: "alice" });
  for (const [type, cell, field] of [
    ["node.heartbeat", "local", "envelope.type"],
    ["api.submit", "other", "envelope.cell"],
    ["api.submit", "local", "spec.name"],
  ] as const) {
    const error = t.throws(() => open(bytes, type, cell, type === "api.submit" ? submitJob.request : heartbeat.body));
    t.true(error instanceof CorralError);
    t.is((error as CorralError).code, "bad_request");
    t.is((error as CorralError).field, field);
  }
});

test("fuzz: any bytes either open or fail with a CorralError, never anything else", (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        open(bytes, "node.heartbeat", "local", heartbeat.body);
      } catch (error) {
        if (!(error instanceof CorralError)) throw error;
      }
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
