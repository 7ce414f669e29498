import test from "ava";
import fc from "fast-check";
import { CorralError, parseSelector, selectorMatches } from "../index.js";

test("selectors: equality, inequality, existence and absence, every term must hold", (t) => {
  const terms = parseSelector("tier=web, env!=prod,canary,!legacy");
  t.deepEqual(terms, [
    { key: "tier", op: "=", value: "web" },
    { key: "env", op: "!=", value: "prod" },
    { key: "canary", op: "exists" },
    { key: "legacy", op: "absent" },
  ]);
  t.true(selectorMatches(terms, { tier: "web", canary: "" }));
  t.true(selectorMatches(terms, { tier: "web", canary: "yes", env: "dev" }));
  t.false(selectorMatches(terms, { tier: "web", canary: "", env: "prod" }));
  t.false(selectorMatches(terms, { tier: "web" }), "canary missing");
  t.false(selectorMatches(terms, { tier: "web", canary: "", legacy: "1" }));
  t.true(selectorMatches(parseSelector("app.kubernetes.io/name==web"), { "app.kubernetes.io/name": "web" }), "== as Kubernetes allows");
  t.false(selectorMatches(parseSelector("constructor"), {}), "inherited properties are not labels");
});

test("a bad selector names the term and shows what terms look like", (t) => {
  for (const bad of ["", "tier=web,,x", "!tier=web", "ti er=web", "tier=we b", "=web"]) {
    const error = t.throws(() => parseSelector(bad), { instanceOf: CorralError }, bad);
    t.is(error?.field, "selector");
    t.regex(error?.message ?? "", /write terms like tier=web/);
  }
});

test("fuzz: any text either parses or is refused with a CorralError", (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (text) => {
      try {
        parseSelector(text);
      } catch (error) {
        return error instanceof CorralError;
      }
      return true;
    }),
    { numRuns: 2000 },
  );
  t.pass("checked by fast-check");
});
