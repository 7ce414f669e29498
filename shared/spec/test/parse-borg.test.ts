import test from "ava";
import { parseJobSpec } from "../index.js";
import { FULL_BORG, FULL_SPEC, SEED_BORG, SEED_SPEC } from "./support/sources.js";

const borg = (source: string) => parseJobSpec(source, { file: "job.borg" });
const minimal = (fields: string) => borg(`job j = { binary = 'b' requirements = { ram = 1M cpu = 1 } replicas = 1 ${fields} }`);

test("the seed example from the Borg lecture parses to the expected JobSpec", (t) => {
  t.deepEqual(borg(SEED_BORG), SEED_SPEC);
});

test("a job using every field parses, with units converted", (t) => {
  t.deepEqual(borg(FULL_BORG), FULL_SPEC);
});

test("the format comes from the extension, or from the option whatever the name", (t) => {
  t.deepEqual(parseJobSpec(SEED_BORG, { file: "seed.BORG" }), SEED_SPEC);
  t.deepEqual(parseJobSpec(SEED_BORG, { file: "-", format: "borg" }), SEED_SPEC);
  t.deepEqual(parseJobSpec(SEED_BORG, { file: "seed.txt", format: "borg" }), SEED_SPEC);
});

test("the design doc's one-line requirements (entries separated by spaces only) parse", (t) => {
  const spec = borg(`job hello_world = {
  runtime = { cell = 'local' }
  binary = 'hello_world_webserver'
  args = { port = '%port%' }
  requirements = { ram = 100M  disk = 100M  cpu = 0.1 }
  replicas = 5
}`);
  t.deepEqual(spec, SEED_SPEC);
});

test("entries may be separated by newlines, commas or semicolons, with trailing separators", (t) => {
  const spec = borg("job j = { binary = 'b'; requirements = { ram = 1M, cpu = 1, }, replicas = 2; }");
  t.is(spec.replicas, 2);
  t.is(spec.requirements.ram, 2 ** 20);
});

test("all three comment styles are ignored, including in awkward places", (t) => {
  const spec = borg(`# leading comment
job /* inline */ j = { // after brace
  binary = 'b' # hash comment
  /* a block comment
     spanning lines */
  requirements = { ram = 1M cpu = 1 }
  replicas = 1
} // trailing`);
  t.is(spec.binary, "b");
});

test("strings: both quotes and the escapes", (t) => {
  const spec = minimal(String.raw`env = { A = "say \"hi\"", B = 'it\'s', C = 'back\\slash', D = 'a\nb\tc', E = "it's", F = 'say "x"' }`);
  t.deepEqual(spec.env, { A: 'say "hi"', B: "it's", C: "back\\slash", D: "a\nb\tc", E: "it's", F: 'say "x"' });
});

test("comment markers inside strings are part of the string", (t) => {
  t.is(borg("job j = { binary = 'http://x/#y/*z*/' requirements = { ram = 1M cpu = 1 } replicas = 1 }").binary, "http://x/#y/*z*/");
});

test("lists: commas optional, trailing comma allowed, empty list", (t) => {
  t.deepEqual(minimal("args = ['a' 'b', 'c',]").args, ["a", "b", "c"]);
  t.deepEqual(minimal("args = []").args, []);
  t.deepEqual(minimal("args = [\n  'a'\n  'b'\n]").args, ["a", "b"]);
});

test("args as a map become --key=value flags in source order; true is a bare flag", (t) => {
  const spec = minimal("args = { port = '%port%', verbose = true, quiet = false, workers = 4, mem = 100M, 'log-dir' = '/tmp' }");
  t.deepEqual(spec.args, ["--port=%port%", "--verbose", "--quiet=false", "--workers=4", "--mem=100M", "--log-dir=/tmp"]);
});

test("numbers in args lists and env values keep their written form", (t) => {
  const spec = minimal("args = [8080, 1.50, true] env = { RATIO = 0.50 }");
  t.deepEqual(spec.args, ["8080", "1.50", "true"]);
  t.deepEqual(spec.env, { RATIO: "0.50" });
});

test("defaults: a job, no runtime cell, no user, empty args and env, no disk, production, always, 10s grace, no placement rules, no alloc set, no labels", (t) => {
  const spec = borg("job j = { binary = 'b' requirements = { ram = 1M cpu = 1 } replicas = 1 }");
  t.deepEqual(spec, {
    name: "j",
    kind: "job",
    runtime: {},
    binary: "b",
    args: [],
    env: {},
    requirements: { ram: 2 ** 20, disk: 0, cpu: 1, ports: 0 },
    replicas: 1,
    priority: "production",
    restart: "always",
    gracePeriodMs: 10_000,
    constraints: [],
    preferences: [],
    volumes: [],
    labels: {},
  });
  t.false("user" in spec);
  t.false("cell" in spec.runtime);
  t.false("spread" in spec);
  t.false("maxPerMachine" in spec);
  t.false("allocSet" in spec);
});

test("ports defaults to one more than the highest %portN% in args and env", (t) => {
  t.is(minimal("args = ['--a=%port%']").requirements.ports, 1);
  t.is(minimal("args = ['--a=%port%'] env = { B = 'x%port3%y' }").requirements.ports, 4);
  t.is(minimal("args = { a = '%port1%', b = '%port%' }").requirements.ports, 2);
  t.is(minimal("args = ['%port']").requirements.ports, 0);
});

test("an explicit ports may exceed what the placeholders need", (t) => {
  t.is(borg("job j = { binary = 'b' requirements = { ram = 1M cpu = 1 ports = 4 } replicas = 1 }").requirements.ports, 4);
});

test("cpu as a number, a quoted number or millicores; ram as bytes or any suffix form", (t) => {
  const cases: Array<[string, number, number]> = [
    ["ram = 1048576 cpu = 2", 2 ** 20, 2],
    ["ram = 1Mi cpu = '0.5'", 2 ** 20, 0.5],
    ["ram = 1MiB cpu = 500m", 2 ** 20, 0.5],
    ["ram = '1 MiB' cpu = 1.5e0", 2 ** 20, 1.5],
    ["ram = 0.5G cpu = 1", 2 ** 29, 1],
  ];
  for (const [requirements, ram, cpu] of cases) {
    const spec = borg(`job j = { binary = 'b' requirements = { ${requirements} } replicas = 1 }`);
    t.is(spec.requirements.ram, ram, requirements);
    t.is(spec.requirements.cpu, cpu, requirements);
  }
});

test("grace takes durations, compound ones too, and 0 without a unit", (t) => {
  t.is(minimal("grace = 500ms").gracePeriodMs, 500);
  t.is(minimal("grace = 2m").gracePeriodMs, 120_000);
  t.is(minimal("grace = '1h'").gracePeriodMs, 3_600_000);
  t.is(minimal("grace = 1m30s").gracePeriodMs, 90_000);
  t.is(minimal("grace = 0").gracePeriodMs, 0);
});

test("the job name may be quoted, and may contain '-' and '_'", (t) => {
  t.is(borg("job 'my-job_2' = { binary = 'b' requirements = { ram = 1M cpu = 1 } replicas = 1 }").name, "my-job_2");
  t.is(borg("job my-job_2 = { binary = 'b' requirements = { ram = 1M cpu = 1 } replicas = 1 }").name, "my-job_2");
});

test("Windows line endings and a byte-order mark are fine", (t) => {
  t.deepEqual(borg(`\uFEFF${SEED_BORG.replaceAll("\n", "\r\n")}`), SEED_SPEC);
});

test("env maps accept quoted keys", (t) => {
  t.deepEqual(minimal("env = { 'HOME_DIR' = '/home' }").env, { HOME_DIR: "/home" });
});

test("names may start with a digit, as the name rules allow", (t) => {
  const spec = borg("job 1web-2 = { binary = 'b' requirements = { ram = 1M cpu = 1 } replicas = 1 args = { 2fa = true } }");
  t.is(spec.name, "1web-2");
  t.deepEqual(spec.args, ["--2fa"]);
  t.is(borg("job 0 = { binary = 'b' requirements = { ram = 1M cpu = 1 } replicas = 1 }").name, "0");
});
