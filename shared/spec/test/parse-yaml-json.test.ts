import test from "ava";
import { parseJobSpec } from "../index.js";
import { FULL_BORG, FULL_SPEC, FULL_YAML, SEED_BORG, SEED_JSON, SEED_SPEC, SEED_YAML } from "./support/sources.js";

test("the seed example in YAML parses to the same JobSpec as the Borg one", (t) => {
  t.deepEqual(parseJobSpec(SEED_YAML, { file: "seed.yaml" }), SEED_SPEC);
  t.deepEqual(parseJobSpec(SEED_YAML, { file: "seed.yml" }), parseJobSpec(SEED_BORG, { file: "seed.borg" }));
});

test("the seed example in JSON parses to the same JobSpec", (t) => {
  t.deepEqual(parseJobSpec(SEED_JSON, { file: "seed.json" }), SEED_SPEC);
});

test("a YAML job using every field matches its Borg twin", (t) => {
  t.deepEqual(parseJobSpec(FULL_YAML, { file: "full.yaml" }), FULL_SPEC);
  t.deepEqual(parseJobSpec(FULL_BORG, { file: "full.borg" }), FULL_SPEC);
});

test("the brief's YAML example, flow style throughout", (t) => {
  const spec = parseJobSpec(
    `job: hello_world          # the job's name (key \`job\`, or \`name\`)
user: alice
runtime: { cell: local }
binary: hello_world_webserver
args: ["--port=%port%"]   # list, or a map like Borg's
env: { GREETING: hi }
requirements: { ram: 100M, disk: 100M, cpu: 0.1 }
replicas: 5
priority: production
restart: always
grace: 5s
`,
    { file: "hello.yaml" },
  );
  t.deepEqual(spec, { ...SEED_SPEC, user: "alice", env: { GREETING: "hi" }, gracePeriodMs: 5000 });
});

test("YAML args may be a map of flags, like Borg's", (t) => {
  const spec = parseJobSpec(
    "name: j\nbinary: b\nargs:\n  port: '%port%'\n  verbose: true\nrequirements: { ram: 1M, cpu: 1 }\nreplicas: 1\n",
    { file: "j.yaml" },
  );
  t.deepEqual(spec.args, ["--port=%port%", "--verbose"]);
});

test("YAML sizes as plain byte numbers and cpu as millicores", (t) => {
  const spec = parseJobSpec("job: j\nbinary: b\nrequirements: { ram: 1048576, cpu: 250m, disk: 0 }\nreplicas: 1\n", { file: "j.yaml" });
  t.deepEqual(spec.requirements, { ram: 2 ** 20, cpu: 0.25, disk: 0, ports: 0 });
});

test("empty optional YAML fields count as absent", (t) => {
  const spec = parseJobSpec("job: j\nbinary: b\nargs:\nenv:\nrequirements: { ram: 1M, cpu: 1 }\nreplicas: 1\nuser:\n", { file: "j.yaml" });
  t.deepEqual(spec.args, []);
  t.deepEqual(spec.env, {});
  t.false("user" in spec);
});

test("JSON parsed with an explicit format, whatever the file is called", (t) => {
  t.deepEqual(parseJobSpec(SEED_JSON, { file: "stdin", format: "json" }), SEED_SPEC);
  t.deepEqual(parseJobSpec(SEED_JSON, { file: "seed.borg", format: "yaml" }), SEED_SPEC);
});

test("a document start marker and comments are fine", (t) => {
  t.deepEqual(parseJobSpec(`---\n# comment\n${SEED_YAML}`, { file: "s.yaml" }), SEED_SPEC);
});
