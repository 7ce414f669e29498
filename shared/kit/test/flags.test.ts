import test from "ava";
import { z } from "zod";
import { environmentVariableOf, flag, FlagError, helpText, parseFlags } from "../index.js";

const description = {
  program: "corral-example",
  summary: "An example service.",
  flags: {
    leaseTtl: flag("how long a lease lasts", z.coerce.number().int("a whole number").min(1, "at least 1"), { default: "10" }),
    quota: flag("a quota file", z.string().optional()),
    attribute: flag("key=value", z.array(z.string().regex(/=/, "key=value")), { multiple: true }),
  },
};

test("the command line wins over the environment, which wins over the default", (t) => {
  const env = { CORRAL_LEASE_TTL: "20", CORRAL_QUOTA: "/etc/q.yaml" };
  t.deepEqual(parseFlags(description, [], {}), { leaseTtl: 10, quota: undefined, attribute: [] });
  t.deepEqual(parseFlags(description, [], env), { leaseTtl: 20, quota: "/etc/q.yaml", attribute: [] });
  t.deepEqual(parseFlags(description, ["--lease-ttl", "30", "--attribute", "a=1", "--attribute", "b=2"], env), { leaseTtl: 30, quota: "/etc/q.yaml", attribute: ["a=1", "b=2"] });
});

test("each bad flag is named with where its value came from", (t) => {
  const error = t.throws(() => parseFlags(description, ["--attribute", "nokey"], { CORRAL_LEASE_TTL: "0" }), { instanceOf: FlagError });
  t.deepEqual(error.problems, ["CORRAL_LEASE_TTL (for --lease-ttl): at least 1", "--attribute: key=value"]);
  const unknown = t.throws(() => parseFlags(description, ["--leasettl", "3"], {}), { instanceOf: FlagError });
  t.regex(unknown.message, /--leasettl.*see --help/);
});

test("--help is answered instead of parsing, and lists every flag with its default and variable", (t) => {
  t.is(parseFlags(description, ["--help", "--lease-ttl", "bad"], {}), undefined);
  const text = helpText(description);
  t.regex(text, /^Usage: corral-example \[flags\]/);
  t.regex(text, /--lease-ttl <value> +how long a lease lasts \(default: 10; env: CORRAL_LEASE_TTL\)/);
  t.regex(text, /--attribute <value> +key=value \(may be repeated\)/);
  t.is(environmentVariableOf("redisWaitReplicas"), "CORRAL_REDIS_WAIT_REPLICAS");
});
