import { DEFAULT_HEALTH_FAILURES, DEFAULT_HEALTH_INTERVAL_MS, DEFAULT_HEALTH_TIMEOUT_MS, type JobSpec } from "@corral/contracts";
import test from "ava";
import { parseJobSpec, type SpecIssue } from "../index.js";
import { fail, issue, lines } from "./support/expect-issue.js";
import { printBorg, PLAIN_STYLE } from "./support/print-borg.js";
import { EXEC_CHECKED_JSON, EXEC_CHECKED_YAML, FULL_SPEC, TCP_CHECKED_BORG } from "./support/sources.js";


/** A Borg job with an image and one port (given, so the health check's port is not counted in), whose line 7 onwards are `extra`. */
const borg = (...extra: string[]) =>
  lines("job web = {", "  image = 'web:1.2'", "  binary = '/bin/web'", "  args = ['--port=%port%']", "  requirements = { ram = 1M cpu = 1 ports = 1 }", "  replicas = 1", ...extra, "}");
/** The same job in YAML, whose line 7 onwards are `extra`. */
const yaml = (...extra: string[]) => lines("job: web", "image: web:1.2", "binary: /bin/web", "args: ['--port=%port%']", "requirements: { ram: 1M, cpu: 1, ports: 1 }", "replicas: 1", ...extra);
/** The same job in JSON, whose line 8 onwards are `extra` (each ending in a comma but the last). */
const json = (...extra: string[]) =>
  lines("{", '  "job": "web",', '  "image": "web:1.2",', '  "binary": "/bin/web",', '  "args": ["--port=%port%"],', '  "requirements": { "ram": "1M", "cpu": 1, "ports": 1 },', '  "replicas": 1,', ...extra, "}");

// --- Each syntax, to the same JobSpec ----------------------------------------------------------------

const WEB_BORG = `job web = {
  image = 'web:1.2'
  binary = '/bin/busybox'
  args = ['httpd', '-f', '-p', '%port%']
  requirements = { ram = 32M cpu = 0.1 ports = 1 }
  replicas = 2
  volumes = [
    { volume = 'cache' path = '/var/cache' },
    { host = '/srv/static' path = '/www' read_only = true },
  ]
  health = { http = { path = '/healthz' port = 0 } interval = 5s timeout = 1s failures = 3 }
}
`;

const WEB_YAML = `job: web
image: web:1.2
binary: /bin/busybox
args: [httpd, -f, -p, "%port%"]
requirements: { ram: 32M, cpu: 0.1, ports: 1 }
replicas: 2
volumes:
  - volume: cache
    path: /var/cache
  - { host: /srv/static, path: /www, read_only: true }
health:
  http: { path: /healthz, port: 0 }
  interval: 5s
  timeout: 1s
  failures: 3
`;

const WEB_JSON = `{
  "job": "web",
  "image": "web:1.2",
  "binary": "/bin/busybox",
  "args": ["httpd", "-f", "-p", "%port%"],
  "requirements": { "ram": "32M", "cpu": 0.1, "ports": 1 },
  "replicas": 2,
  "volumes": [
    { "volume": "cache", "path": "/var/cache" },
    { "host": "/srv/static", "path": "/www", "read_only": true }
  ],
  "health": { "http": { "path": "/healthz", "port": 0 }, "interval": "5s", "timeout": "1s", "failures": 3 }
}
`;

const WEB_SPEC: JobSpec = {
  name: "web",
  kind: "job",
  runtime: {},
  image: "web:1.2",
  binary: "/bin/busybox",
  args: ["httpd", "-f", "-p", "%port%"],
  env: {},
  requirements: { ram: 32 * 2 ** 20, disk: 0, cpu: 0.1, ports: 1 },
  replicas: 2,
  priority: "production",
  restart: "always",
  gracePeriodMs: 10_000,
  constraints: [],
  preferences: [],
  volumes: [
    { volume: "cache", path: "/var/cache", readOnly: false },
    { host: "/srv/static", path: "/www", readOnly: true },
  ],
  health: { check: { type: "http", path: "/healthz", port: 0 }, intervalMs: 5000, timeoutMs: 1000, failures: 3 },
  labels: {},
};

test("image, volumes and an http health check parse to the same JobSpec in Borg, YAML and JSON", (t) => {
  t.deepEqual(parseJobSpec(WEB_BORG, { file: "web.borg" }), WEB_SPEC);
  t.deepEqual(parseJobSpec(WEB_YAML, { file: "web.yaml" }), WEB_SPEC);
  t.deepEqual(parseJobSpec(WEB_JSON, { file: "web.json" }), WEB_SPEC);
});

test("a tcp check: an empty block checks %port%, with the schema's timings", (t) => {
  const spec = parseJobSpec(TCP_CHECKED_BORG, { file: "db.borg" });
  t.deepEqual(spec.health, { check: { type: "tcp", port: 0 }, intervalMs: DEFAULT_HEALTH_INTERVAL_MS, timeoutMs: DEFAULT_HEALTH_TIMEOUT_MS, failures: DEFAULT_HEALTH_FAILURES });
  t.deepEqual(spec.volumes, [{ volume: "pgdata", path: "/var/lib/postgresql/data", readOnly: false }]);
  t.is(spec.image, "postgres:16");
});

test("an exec check parses the same in YAML and JSON, and needs no port", (t) => {
  const expected: JobSpec["health"] = { check: { type: "exec", command: ["/opt/worker", "--check", "-q"] }, intervalMs: 60_000, timeoutMs: DEFAULT_HEALTH_TIMEOUT_MS, failures: 5 };
  const fromYaml = parseJobSpec(EXEC_CHECKED_YAML, { file: "worker.yaml" });
  t.deepEqual(fromYaml.health, expected);
  t.is(fromYaml.requirements.ports, 0);
  t.deepEqual(parseJobSpec(EXEC_CHECKED_JSON, { file: "worker.json" }), fromYaml);
});

test("defaults: no volumes is [], no health is absent, read_only is false, an http check is '/' on %port%", (t) => {
  const bare = parseJobSpec(borg(), { file: "web.borg" });
  t.deepEqual(bare.volumes, []);
  t.false("health" in bare);

  const spec = parseJobSpec(borg("  volumes = [ { host = '/srv' path = '/srv' } ]", "  health = { http = {} }"), { file: "web.borg" });
  t.deepEqual(spec.volumes, [{ host: "/srv", path: "/srv", readOnly: false }]);
  t.deepEqual(spec.health, { check: { type: "http", path: "/", port: 0 }, intervalMs: 10_000, timeoutMs: 2000, failures: 3 });
});

test("YAML: an empty check (http: with nothing after it) is that check with its defaults; an empty health or volumes is absent", (t) => {
  t.deepEqual(parseJobSpec(yaml("health:", "  http:"), { file: "web.yaml" }).health?.check, { type: "http", path: "/", port: 0 });
  t.deepEqual(parseJobSpec(yaml("health:", "  tcp:", "  failures: 1"), { file: "web.yaml" }).health, { check: { type: "tcp", port: 0 }, intervalMs: 10_000, timeoutMs: 2000, failures: 1 });
  const empty = parseJobSpec(yaml("health:", "volumes:"), { file: "web.yaml" });
  t.false("health" in empty);
  t.deepEqual(empty.volumes, []);
});

test("read_only takes true and false in Borg, YAML and JSON", (t) => {
  t.true(parseJobSpec(borg("  volumes = [ { volume = 'v' path = '/v' read_only = true } ]"), { file: "web.borg" }).volumes[0]?.readOnly);
  t.false(parseJobSpec(borg("  volumes = [ { volume = 'v' path = '/v' read_only = false } ]"), { file: "web.borg" }).volumes[0]?.readOnly);
  t.true(parseJobSpec(yaml("volumes: [{ volume: v, path: /v, read_only: true }]"), { file: "web.yaml" }).volumes[0]?.readOnly);
  t.true(parseJobSpec(json('  "volumes": [{ "volume": "v", "path": "/v", "read_only": true }]'), { file: "web.json" }).volumes[0]?.readOnly);
});

test("with no ports given, the health check's port counts towards the default, as %portN% in args does", (t) => {
  const noArgs = (check: string) => lines("job web = {", "  binary = '/bin/web'", "  requirements = { ram = 1M cpu = 1 }", "  replicas = 1", `  health = ${check}`, "}");
  t.is(parseJobSpec(noArgs("{ tcp = {} }"), { file: "web.borg" }).requirements.ports, 1);
  t.is(parseJobSpec(noArgs("{ http = { port = 2 } }"), { file: "web.borg" }).requirements.ports, 3);
  t.is(parseJobSpec(noArgs("{ exec = { command = ['/bin/check'] } }"), { file: "web.borg" }).requirements.ports, 0);
  // args asking for more than the check still win.
  const withArgs = lines("job web = {", "  binary = '/bin/web'", "  args = ['%port3%']", "  requirements = { ram = 1M cpu = 1 }", "  replicas = 1", "  health = { tcp = { port = 1 } }", "}");
  t.is(parseJobSpec(withArgs, { file: "web.borg" }).requirements.ports, 4);
});

test("image, volumes and health print as Borg and parse back", (t) => {
  const printed = printBorg(WEB_SPEC);
  t.regex(printed, /image = 'web:1\.2'/);
  t.regex(printed, /volumes = \[\{ volume = 'cache'\npath = '\/var\/cache'\nread_only = false \}/);
  t.regex(printed, /health = \{ http = \{ path = '\/healthz'\nport = 0 \}/);
  t.deepEqual(parseJobSpec(printed, { file: "web.borg" }), WEB_SPEC);
  const terse = printBorg(FULL_SPEC, { ...PLAIN_STYLE, omitDefaults: true, separator: " ", suffixes: true });
  t.regex(terse, /health = \{ http = \{ path = '\/healthz' port = 1 \} interval = 5s timeout = 500ms failures = 2 \}/);
  t.deepEqual(parseJobSpec(terse, { file: "full.borg" }), FULL_SPEC);
});

// --- Refusals: each names the field as written, at its line -----------------------------------------

/** [what, extra lines of the Borg job (from line 7), the issue's line, column and field, the message]. */
const BORG_REFUSALS: ReadonlyArray<[string, string[], Partial<SpecIssue>, RegExp]> = [
  ["health with no check", ["  health = { interval = 5s }"], { line: 7, column: 3, field: "health" }, /^says no check to run; add one of http = \{ path = '\/healthz' \}, tcp = \{ port = 0 \}, exec = \{ command = \['\/bin\/check'\] \}$/],
  [
    "health with two checks",
    ["  health = {", "    http = { path = '/healthz' }", "    tcp = {}", "  }"],
    { line: 9, column: 5, field: "health.tcp" },
    /^a task has one health check, found http \(line 8\) and tcp \(line 9\); keep one of 'http', 'tcp', 'exec'$/,
  ],
  ["health that is not a block", ["  health = 'http'"], { line: 7, column: 12, field: "health" }, /^expected a block of fields, found a string \("http"\); e\.g\. health = \{ http = \{ path = '\/healthz' \} interval = 5s \}$/],
  ["a check that is not a block", ["  health = { http = '/healthz' }"], { line: 7, column: 21, field: "health.http" }, /^expected a block of fields, found a string \("\/healthz"\); e\.g\. http = \{ path = '\/healthz' port = 0 \}$/],
  ["a misspelt health field", ["  health = { tcp = {} intervall = 5s }"], { line: 7, column: 23, field: "health.intervall" }, /^unknown field 'intervall' in health\. Did you mean 'interval'\? Allowed: http, tcp, exec, interval, timeout, failures$/],
  ["a synonym for failures", ["  health = { tcp = {} retries = 5 }"], { line: 7, column: 23, field: "health.retries" }, /Did you mean 'failures'\?/],
  ["a misspelt check field", ["  health = { http = { paht = '/x' } }"], { line: 7, column: 23, field: "health.http.paht" }, /^unknown field 'paht' in health\.http\. Did you mean 'path'\? Allowed: path, port$/],
  ["a path in a tcp check", ["  health = { tcp = { path = '/x' } }"], { line: 7, column: 22, field: "health.tcp.path" }, /Only an http check fetches a path: http = \{ path = '\/healthz' port = 0 \}\. Allowed: port$/],
  ["a port in an exec check", ["  health = { exec = { command = ['c'] port = 1 } }"], { line: 7, column: 39, field: "health.exec.port" }, /An exec check runs a command and uses no port; to check a port, use http or tcp\./],
  ["an interval without a unit", ["  health = { tcp = {} interval = 5 }"], { line: 7, column: 34, field: "health.interval" }, /^5 needs a unit; e\.g\. interval = 5s \(ms, s, m and h work\)$/],
  ["a timeout with an unknown unit", ["  health = { tcp = {} timeout = 5y }"], { line: 7, column: 33, field: "health.timeout" }, /"5y" has an unknown duration unit "y"; use a number with ms, s, m or h/],
  ["an interval below the schema's minimum", ["  health = { tcp = {} interval = 50ms timeout = 10ms }"], { line: 7, column: 34, field: "health.interval" }, /^interval is below 100ms$/],
  ["a timeout longer than the interval", ["  health = { tcp = {} interval = 5s timeout = 10s }"], { line: 7, column: 47, field: "health.timeout" }, /^the health check's timeout is longer than its interval; make it shorter$/],
  [
    "an interval shorter than the default timeout",
    ["  health = { tcp = {} interval = 1s }"],
    { line: 7, column: 34, field: "health.interval" },
    /^1000ms is shorter than the default timeout of 2000ms, and a check must time out before the next one starts; add a shorter timeout, e\.g\. timeout = 500ms, or make the interval at least 2000ms$/,
  ],
  ["failures that are not whole", ["  health = { tcp = {} failures = 2.5 }"], { line: 7, column: 34, field: "health.failures" }, /^expected a whole number, found a number \(2\.5\); e\.g\. failures = 3$/],
  ["failures of 0", ["  health = { tcp = {} failures = 0 }"], { line: 7, column: 34, field: "health.failures" }, /^failures must be at least 1$/],
  [
    "a port number where a port index belongs",
    ["  health = { http = { port = 8080 } }"],
    { line: 7, column: 30, field: "health.http.port" },
    /^8080 is not one of the task's ports; port says which of them the http check uses, from 0 \(%port%\) to 15 \(%port15%\), and the machine picks the port numbers\. E\.g\. port = 1 checks %port1%$/,
  ],
  ["a port beyond requirements.ports", ["  health = { tcp = { port = 1 } }"], { line: 7, column: 29, field: "health.tcp.port" }, /^the health check uses port 1 but requirements\.ports is 1; set ports to at least 2$/],
  ["an http path without its leading /", ["  health = { http = { path = 'healthz' } }"], { line: 7, column: 30, field: "health.http.path" }, /^an http check's path starts with \/, e\.g\. \/healthz$/],
  ["an exec check without a command", ["  health = {", "    exec = {}", "  }"], { line: 8, column: 5, field: "health.exec.command" }, /^is missing; add the command to run in the task's container, e\.g\. command = \['\/bin\/check', '-q'\]$/],
  ["an exec command written as one string", ["  health = { exec = { command = '/bin/check -q' } }"], { line: 7, column: 33, field: "health.exec.command" }, /^expected a list of words, found a string \("\/bin\/check -q"\); write each word as its own item: command = \['\/bin\/check', '-q'\]$/],
  ["an empty exec command", ["  health = { exec = { command = [] } }"], { line: 7, column: 23, field: "health.exec.command" }, /^an exec check needs a command, e\.g\. \['\/bin\/check'\]$/],
  ["a command word that is a block", ["  health = { exec = { command = ['/bin/check', {}] } }"], { line: 7, column: 48, field: "health.exec.command.1" }, /^a command word must be a string, number or boolean, not a map$/],
  ["volumes that are a block", ["  volumes = { volume = 'v' path = '/v' }"], { line: 7, column: 13, field: "volumes" }, /^expected a list of volumes, found a map; put the block in a list, even when there is only one: volumes = \[\{ volume = 'cache' path = '\/var\/cache' \}\]$/],
  ["a volume that is not a block", ["  volumes = [ '/srv:/data' ]"], { line: 7, column: 15, field: "volumes.0" }, /^each volume is a block of fields, found a string \("\/srv:\/data"\); e\.g\. \{ volume = 'cache' path = '\/var\/cache' \}$/],
  [
    "a volume with neither host nor volume",
    ["  volumes = [", "    { path = '/data' }", "  ]"],
    { line: 8, column: 5, field: "volumes.0" },
    /^says nothing to mount; add a directory of the machine \(host = '\/srv\/data'\) or a named volume \(volume = 'cache'\)$/,
  ],
  ["a volume with both host and volume", ["  volumes = [ { host = '/srv' volume = 'v' path = '/data' } ]"], { line: 7, column: 31, field: "volumes.0.volume" }, /^give either host \(a directory of the machine\) or volume \(a named volume the machine keeps\), not both/],
  ["a volume without a path", ["  volumes = [", "    { volume = 'v' }", "  ]"], { line: 8, column: 5, field: "volumes.0.path" }, /^is missing; add where it appears in the task's container, e\.g\. path = '\/data'$/],
  ["read_only quoted", ["  volumes = [ { volume = 'v' path = '/v' read_only = 'true' } ]"], { line: 7, column: 54, field: "volumes.0.read_only" }, /^expected true or false, found a string \("true"\); write read_only = true, without quotes$/],
  ["read_only a number", ["  volumes = [ { volume = 'v' path = '/v' read_only = 1 } ]"], { line: 7, column: 54, field: "volumes.0.read_only" }, /^expected true or false, found a number \(1\); e\.g\. read_only = true$/],
  ["a misspelt volume field", ["  volumes = [ { volume = 'v' path = '/v' readonly = true } ]"], { line: 7, column: 42, field: "volumes.0.readonly" }, /^unknown field 'readonly' in volumes\.0 \(a volume\)\. Did you mean 'read_only'\? Allowed: host, volume, path, read_only$/],
  ["another name for path", ["  volumes = [ { volume = 'v' path = '/v' target = '/w' } ]"], { line: 7, column: 42, field: "volumes.0.target" }, /Did you mean 'path'\?/],
  ["a relative host directory", ["  volumes = [ { volume = 'v' path = '/v' }, { host = 'srv' path = '/v' } ]"], { line: 7, column: 54, field: "volumes.1.host" }, /^a path inside the container is absolute, e\.g\. \/data$/],
  ["a path with ..", ["  volumes = [ { volume = 'v' path = '/a/../etc' } ]"], { line: 7, column: 37, field: "volumes.0.path" }, /^a path must not contain '\.\.'$/],
  ["a volume name in capitals", ["  volumes = [ { volume = 'Cache' path = '/v' } ]"], { line: 7, column: 26, field: "volumes.0.volume" }, /^a volume name is 1-63 lower-case letters, digits, '_' and '-'$/],
  ["a volume name that is a number", ["  volumes = [ { volume = 7 path = '/v' } ]"], { line: 7, column: 26, field: "volumes.0.volume" }, /^expected a quoted string, found a number \(7\); quote it: volume = '7'$/],
  ["seventeen volumes", [`  volumes = [ ${Array.from({ length: 17 }, (_, i) => `{ volume = 'v${i}' path = '/v${i}' }`).join(" ")} ]`], { line: 7, column: 3, field: "volumes" }, /^more than 16 volumes$/],
  ["a misspelt health at the top", ["  healthcheck = { tcp = {} }"], { line: 7, column: 3, field: "healthcheck" }, /^unknown field 'healthcheck' in a job\. Did you mean 'health'\?/],
];

for (const [what, extra, where, message] of BORG_REFUSALS) {
  test(`Borg refuses ${what}, at its line, in the field's source spelling`, (t) => {
    const source = borg(...extra);
    const found = issue(t, source, "web.borg");
    t.like(found, where, source);
    t.regex(found.message, message);
  });
}

test("a check's fields written straight in health, or the JobSpec's type, say where they go (and that there is then no check)", (t) => {
  const path = fail(t, borg("  health = { path = '/healthz' port = 0 }"), "web.borg");
  t.deepEqual(
    path.issues.map((found) => [found.line, found.column, found.field]),
    [
      [7, 3, "health"],
      [7, 14, "health.path"],
      [7, 32, "health.port"],
    ],
  );
  t.regex(path.issues[1]?.message ?? "", /^unknown field 'path' in health\. A check's path goes in the check's block: http = \{ path = '\/healthz' port = 0 \}, or tcp = \{ port = 0 \}\. Allowed: /);
  const type = fail(t, borg("  health = { type = 'http' }"), "web.borg");
  t.like(type.issues[1], { line: 7, column: 14, field: "health.type" });
  t.regex(type.issues[1]?.message ?? "", /Name the check by its kind instead: http = \{ path = '\/healthz' \}, tcp = \{ port = 0 \}, exec = \{ command = \['\/bin\/check'\] \}\./);
  const command = fail(t, borg("  health = { command = ['/bin/check'] }"), "web.borg");
  t.regex(command.issues[1]?.message ?? "", /A command goes in an exec check: exec = \{ command = \['\/bin\/check'\] \}\./);
});

test("the refusals above are not an accident of the test jobs: they parse as they are", (t) => {
  t.notThrows(() => parseJobSpec(borg(), { file: "web.borg" }));
  t.notThrows(() => parseJobSpec(yaml(), { file: "web.yaml" }));
  t.notThrows(() => parseJobSpec(json('  "volumes": []'), { file: "web.json" }));
});

test("volumes need an image, said by the schema at volumes", (t) => {
  const found = issue(t, borg("  volumes = [ { volume = 'v' path = '/v' } ]").replace("  image = 'web:1.2'\n", ""), "web.borg");
  t.like(found, { line: 6, column: 3, field: "volumes" });
  t.regex(found.message, /^volumes are mounted into a task's container: give the job an image/);
});

test("every problem in volumes and health is reported, each at its own line, in source order", (t) => {
  const error = fail(
    t,
    borg(
      "  volumes = [",
      "    { volume = 'Bad' path = '/v' }",
      "    { host = '/srv' path = 'data' }",
      "  ]",
      "  health = {",
      "    http = { port = 16 }",
      "    timeout = 1h",
      "  }",
    ),
    "web.borg",
  );
  t.deepEqual(
    error.issues.map((found) => [found.line, found.field]),
    [
      [8, "volumes.0.volume"],
      [9, "volumes.1.path"],
      [12, "health.http.port"],
      [13, "health.timeout"],
      [13, "health.timeout"],
    ],
    error.message,
  );
});

// --- In YAML and JSON ---------------------------------------------------------------------------------

test("YAML: refusals name the field as written, at its line, with YAML examples", (t) => {
  const camel = issue(t, yaml("volumes:", "  - volume: v", "    path: /v", "    readOnly: true"), "web.yaml");
  t.like(camel, { line: 10, column: 5, field: "volumes.0.readOnly" });
  t.regex(camel.message, /Fields are spelled in snake_case here: 'read_only'/);

  const yes = issue(t, yaml("volumes:", "  - { volume: v, path: /v, read_only: yes }"), "web.yaml");
  t.like(yes, { line: 8, column: 39, field: "volumes.0.read_only" });
  t.regex(yes.message, /^expected true or false, found a string \("yes"\); write read_only: true, without quotes$/);

  const none = issue(t, yaml("health:", "  interval: 5s"), "web.yaml");
  t.like(none, { line: 7, column: 1, field: "health" });
  t.regex(none.message, /add one of http: \{ path: \/healthz \}, tcp: \{ port: 0 \}, exec: \{ command: \[\/bin\/check\] \}$/);

  const interval = issue(t, yaml("health:", "  tcp:", "  intervalMs: 5000"), "web.yaml");
  t.like(interval, { line: 9, column: 3, field: "health.intervalMs" });
  t.regex(interval.message, /Did you mean 'interval'\?/);

  const port = issue(t, yaml("health:", "  http:", "    port: 2"), "web.yaml");
  t.like(port, { line: 9, column: 11, field: "health.http.port" });
  t.regex(port.message, /set ports to at least 3/);

  const command = issue(t, yaml("health:", "  exec:", "    command: check --quick"), "web.yaml");
  t.like(command, { line: 9, column: 14, field: "health.exec.command" });
  t.regex(command.message, /write each word as its own item: command: \[check, '--quick'\]$/);
});

test("JSON: refusals name the field as written, at its line, with JSON examples", (t) => {
  const both = issue(t, json('  "health": {', '    "tcp": {},', '    "exec": { "command": ["c"] }', "  }"), "web.json");
  t.like(both, { line: 10, column: 5, field: "health.exec" });
  t.regex(both.message, /found tcp \(line 9\) and exec \(line 10\)/);

  const readOnly = issue(t, json('  "volumes": [{ "host": "/srv", "path": "/v", "read_only": "false" }]'), "web.json");
  t.like(readOnly, { line: 8, field: "volumes.0.read_only" });
  t.regex(readOnly.message, /write "read_only": false, without quotes$/);

  const interval = issue(t, json('  "health": { "tcp": {}, "interval": 10 }'), "web.json");
  t.like(interval, { line: 8, field: "health.interval" });
  t.regex(interval.message, /^10 needs a unit; e\.g\. "interval": "5s"/);
});

// --- Alloc sets ---------------------------------------------------------------------------------------

test("an alloc set refuses volumes and health, each at its line, saying why and where they go", (t) => {
  const error = fail(
    t,
    lines(
      "alloc web_allocs = {",
      "  requirements = { ram = 1G cpu = 1 }",
      "  replicas = 2",
      "  volumes = [ { volume = 'v' path = '/v' } ]",
      "  health = { tcp = {} }",
      "}",
    ),
    "a.borg",
  );
  t.deepEqual(
    error.issues.map((found) => [found.line, found.column, found.field]),
    [
      [4, 3, "volumes"],
      [5, 3, "health"],
    ],
  );
  t.regex(error.issues[0]?.message ?? "", /^volumes are not allowed in an alloc set: an alloc set reserves resources and runs nothing; put the program and its volumes in a job with alloc_set = 'web_allocs'$/);
  t.regex(error.issues[1]?.message ?? "", /^health is not allowed in an alloc set: .*; put the program and its health check in a job with alloc_set = 'web_allocs'$/);

  const yamlError = fail(t, lines("alloc: web_allocs", "requirements: { ram: 1G, cpu: 1 }", "replicas: 2", "health:", "  tcp:", "volumes: []"), "a.yaml");
  t.deepEqual(
    yamlError.issues.map((found) => [found.line, found.field]),
    [
      [4, "health"],
      [6, "volumes"],
    ],
  );
  t.true(yamlError.issues.every((found) => found.message.endsWith("a job with alloc_set: web_allocs")), yamlError.message);
});

test("an unknown field in an alloc set does not offer volumes or health", (t) => {
  const found = issue(t, lines("alloc a = {", "  requirements = { ram = 1G cpu = 1 }", "  replicas = 2", "  colour = 'blue'", "}"), "a.borg");
  t.notRegex(found.message, /volumes|health|image/);
});

test("the update policy reads the same in Borg and YAML; absent fields get their defaults", (t) => {
  const expected = { maxParallel: 2, minHealthyTimeMs: 5000, healthyDeadlineMs: 60_000, progressDeadlineMs: 600_000, autoRevert: false, drainMs: 3000, canary: 1, autoPromote: true };
  t.deepEqual(parseJobSpec(borg("  update = { max_parallel = 2 min_healthy_time = 5s healthy_deadline = 1m auto_revert = false drain = 3s canary = 1 auto_promote = true }"), { file: "web.borg" }).update, expected);
  t.deepEqual(
    parseJobSpec(yaml("update:", "  max_parallel: 2", "  min_healthy_time: 5s", "  healthy_deadline: 1m", "  auto_revert: false", "  drain: 3s", "  canary: 1", "  auto_promote: true"), { file: "web.yaml" }).update,
    expected,
  );
  t.false("update" in parseJobSpec(borg(), { file: "web.borg" }));
});

test("an update policy's unknown field, or deadlines it could never meet, are refused at their line in the source's spelling", (t) => {
  const unknown = issue(t, borg("  update = { max_paralel = 2 }"), "web.borg");
  t.like(unknown, { line: 7, field: "update.max_paralel" });
  t.regex(unknown.message, /max_parallel/);
  const short = issue(t, borg("  update = { min_healthy_time = 1m healthy_deadline = 30s }"), "web.borg");
  t.like(short, { field: "update.healthy_deadline" });
  t.regex(short.message, /healthy_deadline must be longer than min_healthy_time/);
});
