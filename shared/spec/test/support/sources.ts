import type { JobSpec } from "@corral/contracts";

/** The example from the Borg lecture, comments and all. */
export const SEED_BORG = `job hello_world = {
  runtime = { cell = 'local' }                    // What cluster should we run in?
  binary = 'hello_world_webserver'                // What program are we to run?
  args = { port = '%port%' }                      // Command line parameters
  requirements = {                                // Resource requirements
    ram = 100M
    disk = 100M
    cpu = 0.1
  }
  replicas = 5 // Number of tasks
}
`;

export const SEED_YAML = `# The seed job, in YAML
job: hello_world
runtime: { cell: local }
binary: hello_world_webserver
args: ["--port=%port%"]
requirements:
  ram: 100M
  disk: 100M
  cpu: 0.1
replicas: 5
`;

export const SEED_JSON = `{
  "name": "hello_world",
  "runtime": { "cell": "local" },
  "binary": "hello_world_webserver",
  "args": { "port": "%port%" },
  "requirements": { "ram": "100M", "disk": 104857600, "cpu": 0.1 },
  "replicas": 5
}
`;

export const SEED_SPEC: JobSpec = {
  name: "hello_world",
  kind: "job",
  runtime: { cell: "local" },
  binary: "hello_world_webserver",
  args: ["--port=%port%"],
  env: {},
  requirements: { ram: 100 * 2 ** 20, disk: 100 * 2 ** 20, cpu: 0.1, ports: 1 },
  replicas: 5,
  priority: "production",
  restart: "always",
  gracePeriodMs: 10_000,
  constraints: [],
  preferences: [],
  volumes: [],
  labels: {},
};

/** Every field set, so both syntaxes are exercised end to end. */
export const FULL_BORG = `
/* A job with every field. */
job web-frontend = {
  user = "alice"
  runtime = { cell = 'us-east1' }
  binary = '/opt/web/server'
  args = ['--port=%port%', "--admin=%port1%", '--name=it\\'s']
  env = { GREETING = 'hi\\tthere'; LEVEL = 3, DEBUG = true }
  requirements = { ram = 1.5Gi  disk = 10GiB  cpu = 250m  ports = 3 }
  replicas = 12
  priority = 'batch'
  restart = 'on-failure'
  grace = 1m30s   # SIGKILL after this
  constraints = [
    { attribute = 'arch' op = '==' value = 'x86_64' },
    { attribute = 'rack', op = 'not_in', values = ['r1', 'r2'] }   // commas between blocks optional
    {
      attribute = "kernel.version"
      op = 'exists'
    }
    { attribute = 'cores' op = '!=' value = 4 }
  ]
  preferences = [ { attribute = 'ssd' op = 'exists' weight = 20 }, { attribute = 'zone' op = 'in' values = ['a' 'b'] } ]
  spread = { across = 'rack' max_skew = 2 }
  max_per_machine = 2
  image = 'registry.local/web:2.0'
  volumes = [
    { volume = 'cache' path = '/var/cache' },
    { host = '/srv/static', path = '/www', read_only = true }
  ]
  health = { http = { path = '/healthz' port = 1 } interval = 5s timeout = 500ms failures = 2 }
  labels = { tier = 'web'  'app.kubernetes.io/name' = "web-frontend"; version = '2.0' }
}
`;

export const FULL_YAML = `
job: web-frontend
user: alice
runtime:
  cell: us-east1
binary: /opt/web/server
args:
  - --port=%port%
  - --admin=%port1%
  - --name=it's
env:
  GREETING: "hi\\tthere"
  LEVEL: 3
  DEBUG: true
requirements:
  ram: 1.5Gi
  disk: 10GiB
  cpu: 250m
  ports: 3
replicas: 12
priority: batch
restart: on-failure
grace: 1m30s
constraints:
  - { attribute: arch, op: ==, value: x86_64 }
  - attribute: rack
    op: not_in
    values: [r1, r2]
  - attribute: kernel.version
    op: exists
  - { attribute: cores, op: "!=", value: 4 }
preferences:
  - { attribute: ssd, op: exists, weight: 20 }
  - attribute: zone
    op: in
    values:
      - a
      - b
spread: { across: rack, max_skew: 2 }
max_per_machine: 2
image: registry.local/web:2.0
volumes:
  - volume: cache
    path: /var/cache
  - { host: /srv/static, path: /www, read_only: true }
health:
  http:
    path: /healthz
    port: 1
  interval: 5s
  timeout: 500ms
  failures: 2
labels:
  tier: web
  app.kubernetes.io/name: web-frontend
  version: "2.0"
`;

export const FULL_JSON = `{
  "job": "web-frontend",
  "user": "alice",
  "runtime": { "cell": "us-east1" },
  "binary": "/opt/web/server",
  "args": ["--port=%port%", "--admin=%port1%", "--name=it's"],
  "env": { "GREETING": "hi\\tthere", "LEVEL": 3, "DEBUG": true },
  "requirements": { "ram": "1.5Gi", "disk": "10GiB", "cpu": "250m", "ports": 3 },
  "replicas": 12,
  "priority": "batch",
  "restart": "on-failure",
  "grace": "1m30s",
  "constraints": [
    { "attribute": "arch", "op": "==", "value": "x86_64" },
    { "attribute": "rack", "op": "not_in", "values": ["r1", "r2"] },
    { "attribute": "kernel.version", "op": "exists" },
    { "attribute": "cores", "op": "!=", "value": 4 }
  ],
  "preferences": [
    { "attribute": "ssd", "op": "exists", "weight": 20 },
    { "attribute": "zone", "op": "in", "values": ["a", "b"] }
  ],
  "spread": { "across": "rack", "max_skew": 2 },
  "max_per_machine": 2,
  "image": "registry.local/web:2.0",
  "volumes": [
    { "volume": "cache", "path": "/var/cache" },
    { "host": "/srv/static", "path": "/www", "read_only": true }
  ],
  "health": { "http": { "path": "/healthz", "port": 1 }, "interval": "5s", "timeout": "500ms", "failures": 2 },
  "labels": { "tier": "web", "app.kubernetes.io/name": "web-frontend", "version": "2.0" }
}
`;

export const FULL_SPEC: JobSpec = {
  name: "web-frontend",
  kind: "job",
  user: "alice",
  runtime: { cell: "us-east1" },
  binary: "/opt/web/server",
  args: ["--port=%port%", "--admin=%port1%", "--name=it's"],
  env: { GREETING: "hi\tthere", LEVEL: "3", DEBUG: "true" },
  requirements: { ram: 1.5 * 2 ** 30, disk: 10 * 2 ** 30, cpu: 0.25, ports: 3 },
  replicas: 12,
  priority: "batch",
  restart: "on-failure",
  gracePeriodMs: 90_000,
  constraints: [
    { attribute: "arch", op: "==", values: ["x86_64"] },
    { attribute: "rack", op: "not_in", values: ["r1", "r2"] },
    { attribute: "kernel.version", op: "exists", values: [] },
    { attribute: "cores", op: "!=", values: ["4"] },
  ],
  preferences: [
    { attribute: "ssd", op: "exists", values: [], weight: 20 },
    { attribute: "zone", op: "in", values: ["a", "b"], weight: 10 },
  ],
  spread: { across: "rack", maxSkew: 2 },
  maxPerMachine: 2,
  image: "registry.local/web:2.0",
  volumes: [
    { volume: "cache", path: "/var/cache", readOnly: false },
    { host: "/srv/static", path: "/www", readOnly: true },
  ],
  health: { check: { type: "http", path: "/healthz", port: 1 }, intervalMs: 5000, timeoutMs: 500, failures: 2 },
  labels: { tier: "web", "app.kubernetes.io/name": "web-frontend", version: "2.0" },
};

/** An alloc set (Borg §2.4): reserves resources on a machine per replica, and runs nothing. */
export const ALLOC_BORG = `// Reserve room for the web servers and their log savers.
alloc web_allocs = {
  user = 'alice'
  runtime = { cell = 'us-east1' }
  requirements = { ram = 2G  disk = 20G  cpu = 1.5 }
  replicas = 4
  priority = 'batch'
  constraints = [ { attribute = 'arch' op = '==' value = 'x86_64' } ]
  preferences = [ { attribute = 'ssd' op = 'exists' weight = 20 } ]
  spread = { across = 'rack' max_skew = 1 }
  max_per_machine = 1
  labels = { team = 'payments' }
}
`;

export const ALLOC_YAML = `alloc: web_allocs
user: alice
runtime: { cell: us-east1 }
requirements: { ram: 2G, disk: 20G, cpu: 1.5 }
replicas: 4
priority: batch
constraints:
  - { attribute: arch, op: "==", value: x86_64 }
preferences:
  - { attribute: ssd, op: exists, weight: 20 }
spread: { across: rack, max_skew: 1 }
max_per_machine: 1
labels: { team: payments }
`;

export const ALLOC_JSON = `{
  "name": "web_allocs",
  "kind": "alloc",
  "user": "alice",
  "runtime": { "cell": "us-east1" },
  "requirements": { "ram": "2G", "disk": "20G", "cpu": 1.5 },
  "replicas": 4,
  "priority": "batch",
  "constraints": [{ "attribute": "arch", "op": "==", "value": "x86_64" }],
  "preferences": [{ "attribute": "ssd", "op": "exists", "weight": 20 }],
  "spread": { "across": "rack", "max_skew": 1 },
  "max_per_machine": 1,
  "labels": { "team": "payments" }
}
`;

/** No binary, args or env, no ports; restart and grace at their defaults, which mean nothing here. */
export const ALLOC_SPEC: JobSpec = {
  name: "web_allocs",
  kind: "alloc",
  user: "alice",
  runtime: { cell: "us-east1" },
  binary: "",
  args: [],
  env: {},
  requirements: { ram: 2 * 2 ** 30, disk: 20 * 2 ** 30, cpu: 1.5, ports: 0 },
  replicas: 4,
  priority: "batch",
  restart: "always",
  gracePeriodMs: 10_000,
  constraints: [{ attribute: "arch", op: "==", values: ["x86_64"] }],
  preferences: [{ attribute: "ssd", op: "exists", values: [], weight: 20 }],
  spread: { across: "rack", maxSkew: 1 },
  maxPerMachine: 1,
  volumes: [],
  labels: { team: "payments" },
};

/** A job whose tasks run in the web_allocs alloc set's reservations. */
export const IN_ALLOC_BORG = `job web = {
  user = 'alice'
  runtime = { cell = 'us-east1' }
  binary = '/opt/web/server'
  args = ['--port=%port%']
  requirements = { ram = 1G cpu = 1 }
  replicas = 4
  alloc_set = 'web_allocs'
}
`;

export const IN_ALLOC_YAML = `job: web
user: alice
runtime: { cell: us-east1 }
binary: /opt/web/server
args: ["--port=%port%"]
requirements: { ram: 1G, cpu: 1 }
replicas: 4
alloc_set: web_allocs
`;

export const IN_ALLOC_SPEC: JobSpec = {
  name: "web",
  kind: "job",
  user: "alice",
  runtime: { cell: "us-east1" },
  binary: "/opt/web/server",
  args: ["--port=%port%"],
  env: {},
  requirements: { ram: 2 ** 30, disk: 0, cpu: 1, ports: 1 },
  replicas: 4,
  priority: "production",
  restart: "always",
  gracePeriodMs: 10_000,
  constraints: [],
  preferences: [],
  allocSet: "web_allocs",
  volumes: [],
  labels: {},
};

/** The other two kinds of health check, so every kind is exercised in every syntax. */
export const TCP_CHECKED_BORG = `job db = {
  image = 'postgres:16'
  binary = '/usr/bin/postgres'
  args = ['-p', '%port%']
  requirements = { ram = 1G cpu = 1 }
  replicas = 1
  volumes = [ { volume = 'pgdata' path = '/var/lib/postgresql/data' read_only = false } ]
  health = { tcp = {} }
}
`;

export const EXEC_CHECKED_YAML = `job: worker
binary: /opt/worker
requirements: { ram: 100M, cpu: 0.5 }
replicas: 3
health:
  exec:
    command: [/opt/worker, --check, -q]
  interval: 1m
  failures: 5
`;

export const EXEC_CHECKED_JSON = `{
  "job": "worker",
  "binary": "/opt/worker",
  "requirements": { "ram": "100M", "cpu": 0.5 },
  "replicas": 3,
  "health": { "exec": { "command": ["/opt/worker", "--check", "-q"] }, "interval": "1m", "failures": 5 }
}
`;

/** A federated job: spread over three cells by weight, in each syntax. */
export const FEDERATED_BORG = `job web = {
  user = 'alice'
  // Twice as many tasks in us-east1 as in either of the others.
  runtime = { cells = ['us-east1', 'us-west1', 'eu-west1'] policy = 'spread' weights = [2, 1, 1] spill_after = 30s max_disruption = 1 }
  binary = '/opt/web/server'
  args = ['--port=%port%']
  requirements = { ram = 1G cpu = 1 }
  replicas = 8
}
`;

export const FEDERATED_YAML = `job: web
user: alice
# Twice as many tasks in us-east1 as in either of the others.
runtime: { cells: [us-east1, us-west1, eu-west1], policy: spread, weights: [2, 1, 1], spill_after: 30s, max_disruption: 1 }
binary: /opt/web/server
args: ["--port=%port%"]
requirements: { ram: 1G, cpu: 1 }
replicas: 8
`;

export const FEDERATED_JSON = `{
  "job": "web",
  "user": "alice",
  "runtime": {
    "cells": ["us-east1", "us-west1", "eu-west1"],
    "policy": "spread",
    "weights": [2, 1, 1],
    "spill_after": "30s",
    "max_disruption": 1
  },
  "binary": "/opt/web/server",
  "args": ["--port=%port%"],
  "requirements": { "ram": "1G", "cpu": 1 },
  "replicas": 8
}
`;

export const FEDERATED_SPEC: JobSpec = {
  name: "web",
  kind: "job",
  user: "alice",
  runtime: { cells: ["us-east1", "us-west1", "eu-west1"], policy: "spread", weights: [2, 1, 1], spillAfterMs: 30_000, maxDisruption: 1 },
  binary: "/opt/web/server",
  args: ["--port=%port%"],
  env: {},
  requirements: { ram: 2 ** 30, disk: 0, cpu: 1, ports: 1 },
  replicas: 8,
  priority: "production",
  restart: "always",
  gracePeriodMs: 10_000,
  constraints: [],
  preferences: [],
  volumes: [],
  labels: {},
};

/** A federated job filling its cells in order of preference, with what it leaves out at their defaults. */
export const FILL_BORG = `job batch = {
  runtime = {
    cells = ['a', 'b', 'c']
    policy = 'fill'
    spill_after = 45s
  }
  binary = '/opt/batch'
  requirements = { ram = 100M cpu = 0.5 }
  replicas = 3
}
`;

export const FILL_YAML = `job: batch
runtime: { cells: [a, b, c], policy: fill, spill_after: 45s }
binary: /opt/batch
requirements: { ram: 100M, cpu: 0.5 }
replicas: 3
`;

export const FILL_JSON = `{
  "job": "batch",
  "runtime": { "cells": ["a", "b", "c"], "policy": "fill", "spill_after": "45s" },
  "binary": "/opt/batch",
  "requirements": { "ram": "100M", "cpu": 0.5 },
  "replicas": 3
}
`;

export const FILL_SPEC: JobSpec = {
  name: "batch",
  kind: "job",
  runtime: { cells: ["a", "b", "c"], policy: "fill", spillAfterMs: 45_000 },
  binary: "/opt/batch",
  args: [],
  env: {},
  requirements: { ram: 100 * 2 ** 20, disk: 0, cpu: 0.5, ports: 0 },
  replicas: 3,
  priority: "production",
  restart: "always",
  gracePeriodMs: 10_000,
  constraints: [],
  preferences: [],
  volumes: [],
  labels: {},
};
