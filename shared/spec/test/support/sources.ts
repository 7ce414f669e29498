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
  runtime: { cell: "local" },
  binary: "hello_world_webserver",
  args: ["--port=%port%"],
  env: {},
  requirements: { ram: 100 * 2 ** 20, disk: 100 * 2 ** 20, cpu: 0.1, ports: 1 },
  replicas: 5,
  priority: "production",
  restart: "always",
  gracePeriodMs: 10_000,
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
`;

export const FULL_SPEC: JobSpec = {
  name: "web-frontend",
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
};
