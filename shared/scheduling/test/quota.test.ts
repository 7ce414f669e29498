import test from "ava";
import { quotaExcess, quotaFor, type QuotaTable } from "../src/quota.js";

const GIB = 1024 ** 3;
const table: QuotaTable = {
  defaults: { batch: { cpu: 10, ram: 10 * GIB, disk: 100 * GIB } },
  users: { alice: { production: { cpu: 4, ram: 8 * GIB, disk: 10 * GIB } } },
};

test("a user's own quota, else the default; an ungranted band is zero; best-effort has none", (t) => {
  t.is(quotaFor(table, "alice", "production")?.cpu, 4);
  t.is(quotaFor(table, "bob", "batch")?.cpu, 10);
  t.deepEqual(quotaFor(table, "bob", "production"), { cpu: 0, ram: 0, disk: 0 });
  t.is(quotaFor(table, "alice", "best-effort"), undefined);
});

test("the excess names each resource over, with the limit and what would be used", (t) => {
  const limit = { cpu: 4, ram: 8 * GIB, disk: 10 * GIB };
  t.deepEqual(quotaExcess(limit, { cpu: 3, ram: 2 * GIB, disk: 0 }, { cpu: 1, ram: 6 * GIB, disk: 10 * GIB }), [], "exactly at the limit fits");
  t.deepEqual(quotaExcess(limit, { cpu: 3, ram: 2 * GIB, disk: 0 }, { cpu: 2, ram: 7 * GIB, disk: 0 }), [
    { resource: "cpu", limit: 4, wouldUse: 5 },
    { resource: "ram", limit: 8 * GIB, wouldUse: 9 * GIB },
  ]);
});
