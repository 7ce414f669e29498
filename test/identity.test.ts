import test from "ava";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GatewayClient } from "@corral/client";
import type { JobView } from "@corral/contracts";
import { REDIS_USER } from "@corral/kit";
import { REPO_ROOT } from "@corral/launcher";
import { eventually, sleeperJob, TestCell } from "@corral/testkit";

// Who may do what, on a real cell with two gateways: tokens, roles, owners, cross-site
// refusals, revocation seen by every gateway, and the CLI's ways of holding a token.
const run = promisify(execFile);
const CLI = join(REPO_ROOT, "services", "cli", "bin", "corral.js");
let cell: TestCell;
const tokens: Record<string, string> = {};

async function corral(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args], { cwd: options.cwd ?? REPO_ROOT, env: { ...process.env, ...options.env }, timeout: 60_000 });
  return stdout;
}

const as = (name: string, gateway = cell.gateway) => new GatewayClient(gateway, { token: tokens[name], timeoutMs: 60_000 });

test.before(async () => {
  cell = await TestCell.start("identity", { masters: 2, borglets: 1, gateways: 2 });
  for (const [name, role] of [["alice", "user"], ["bob", "user"], ["vera", "viewer"]] as const) {
    const added = JSON.parse(await corral(["--dir", cell.cell.dir, "user", "add", name, "--role", role, "--json"])) as { user: { name: string; role: string }; token: string };
    tokens[name] = added.token;
  }
});
test.after.always(async () => {
  await cell?.stop();
});

test("the local cell's admin token is the owner's alone, and users are listed without their tokens", async (t) => {
  t.is(statSync(join(cell.cell.dir, "admin.token")).mode & 0o777, 0o600);
  const listed = await corral(["--dir", cell.cell.dir, "user", "ls", "--json"]);
  const users = (JSON.parse(listed) as { users: { name: string; role: string }[] }).users;
  // Other tests add users of their own as this runs.
  t.deepEqual(users.map((user) => `${user.name}:${user.role}`).filter((user) => /^(alice|bob|tester|vera):/.test(user)), ["alice:user", "bob:user", "tester:admin", "vera:viewer"]);
  for (const secret of [...Object.values(tokens), cell.adminToken]) t.false(listed.includes(secret));
  t.false(listed.includes("tokenSha256"));
  t.regex(await corral(["--dir", cell.cell.dir, "user", "ls"]), /vera\s+│?\s*viewer/);
});

const named = async (name: string) => (await cell.jobs()).filter((job) => job.name === name).length;

test("no token or an unknown one: 401 unauthenticated, and nothing changes", async (t) => {
  for (const token of [undefined, "corral_forged"]) {
    const client = new GatewayClient(cell.gateway, { token });
    for (const [method, path, body] of [["GET", "/v1/jobs"], ["GET", "/v1/nodes"], ["POST", "/v1/jobs", { source: sleeperJob("sneaky") }], ["DELETE", "/v1/jobs/x.tester.local"], ["GET", "/v1/stream"]] as const) {
      const reply = await client.send<{ error: { code: string; message: string } }>(method, path, body);
      t.is(reply.status, 401, `${method} ${path} with ${token ?? "no token"}`);
      t.is(reply.body.error.code, "unauthenticated");
      t.regex(reply.body.error.message, token === undefined ? /Authorization: Bearer/ : /not one this cell issued/);
    }
  }
  t.is((await cell.http("GET", "/v1/healthz", undefined, { authorization: "" })).status, 200, "health needs no token");
  t.is(await named("sneaky"), 0);
});

test("a user cannot kill, scale, read the logs or events of, ask why of, or take over another user's job; its tasks are untouched", async (t) => {
  const bobs = (await as("bob").submit(sleeperJob("web", 2), "web.borg")).job;
  t.is(bobs.id, "web.bob.local", "the owner is the token's user");
  const running = await eventually("bob's tasks running", async () => {
    const view = (await as("bob").job(bobs.id)).job;
    return view.summary.running === 2 ? view : undefined;
  }, 60_000);
  const alice = as("alice");
  const attempts: [string, string, unknown?][] = [
    ["DELETE", `/v1/jobs/${bobs.id}`],
    ["POST", `/v1/jobs/${bobs.id}/scale`, { replicas: 5 }],
    ["GET", `/v1/jobs/${bobs.id}/tasks/0/logs`],
    ["GET", `/v1/jobs/${bobs.id}/events`],
    ["GET", `/v1/jobs/${bobs.id}/why`],
    ["POST", "/v1/jobs", { source: sleeperJob("web").replace("binary", "user = 'bob'\n  binary") }],
    ["POST", "/v1/plan", { source: sleeperJob("web").replace("binary", "user = 'bob'\n  binary") }],
  ];
  for (const [method, path, body] of attempts) {
    const reply = await alice.send<{ error: { code: string; message: string } }>(method, path, body);
    t.is(reply.status, 403, `${method} ${path}`);
    t.is(reply.body.error.code, "forbidden");
    t.regex(reply.body.error.message, /alice|you are alice/, `${method} ${path}: ${reply.body.error.message}`);
  }
  t.regex((await alice.send<{ error: { message: string } }>("DELETE", `/v1/jobs/${bobs.id}`)).body.error.message, /alice may not kill job web\.bob\.local: it is bob's/);
  const after = (await as("bob").job(bobs.id)).job;
  t.false(after.killed === true);
  t.is(after.replicas, 2);
  t.deepEqual(after.tasks.map((task) => [task.state, task.pid]), running.tasks.map((task) => [task.state, task.pid]), "bob's tasks run on, the same processes");
  // The same short name is alice's own job, not a takeover of bob's.
  t.is((await alice.submit(sleeperJob("web"), "web.borg")).job.id, "web.alice.local");
  // An admin may act for anyone.
  t.is((await cell.client.scale(bobs.id, 3)).job.replicas, 3);
});

test("a viewer reads everything and changes nothing", async (t) => {
  const vera = as("vera");
  await as("bob").submit(sleeperJob("watched"), "watched.borg");
  t.true((await vera.allJobs()).jobs.some((job: JobView) => job.id === "watched.bob.local"));
  t.is((await vera.send("GET", "/v1/jobs/watched.bob.local/events")).status, 200);
  for (const [method, path, body] of [["POST", "/v1/jobs", { source: sleeperJob("mine") }], ["DELETE", "/v1/jobs/watched.bob.local"], ["POST", "/v1/users", { name: "eve", role: "admin" }]] as const) {
    const reply = await vera.send<{ error: { code: string; message: string } }>(method, path, body);
    t.is(reply.status, 403, `${method} ${path}`);
    t.regex(reply.body.error.message, /vera/);
  }
  t.false((await vera.allJobs()).jobs.some((job: JobView) => job.id === "mine.vera.local"));
});

test("only admins manage users", async (t) => {
  const reply = await as("alice").send<{ error: { code: string; message: string } }>("POST", "/v1/users", { name: "mallory", role: "admin" });
  t.is(reply.status, 403);
  t.regex(reply.body.error.message, /alice \(user\) may not add users: only admins may/);
  t.is((await as("alice").send("GET", "/v1/users")).status, 403);
  const bad = await cell.client.send<{ error: { field?: string } }>("POST", "/v1/users", { name: "Not A Name", role: "root" });
  t.is(bad.status, 400);
  const taken = await cell.client.send<{ error: { code: string } }>("POST", "/v1/users", { name: "bob", role: "admin" });
  t.is(taken.status, 409);
  t.false((await cell.client.users()).users.some((user) => user.name === "mallory"));
});

test("a cross-site request is refused even with a token; a form post from another site changes nothing", async (t) => {
  const bob = as("bob");
  const forms: Record<string, string>[] = [
    { origin: "http://evil.example", "content-type": "text/plain" },
    { "sec-fetch-site": "cross-site", "content-type": "text/plain" },
  ];
  for (const headers of forms) {
    const reply = await bob.send<{ error: { code: string; message: string } }>("POST", "/v1/jobs", sleeperJob("csrf"), headers);
    t.is(reply.status, 403, JSON.stringify(headers));
    t.regex(reply.body.error.message, /not taken from other sites/);
  }
  // As a browser would send it: no token can ride along, and the origin is another site's.
  const form = await fetch(`${cell.gateway}/v1/jobs`, { method: "POST", headers: { "content-type": "text/plain", origin: "http://evil.example" }, body: sleeperJob("csrf") });
  t.is(form.status, 403);
  // The gateway's own pages are not another site.
  const own = await bob.send("POST", "/v1/jobs", sleeperJob("same_origin"), { origin: cell.gateway });
  t.is(own.status, 201);
  t.is(await named("csrf"), 0);
});

test("a revoked token is refused at once by every gateway of the cell; a user added at one gateway is known at the other", async (t) => {
  const [first, second] = cell.cell.gateways!;
  const added = await new GatewayClient(first!, { token: cell.adminToken }).addUser("rita", "user");
  const rita = (gateway: string) => new GatewayClient(gateway, { token: added.token });
  t.is((await eventually("the other gateway to know rita", async () => ((await rita(second!).send("GET", "/v1/whoami")).status === 200 ? true : undefined), 10_000)), true);
  t.deepEqual((await rita(second!).whoami()), { name: "rita", role: "user" });
  await corral(["--dir", cell.cell.dir, "user", "revoke", "rita"]);
  t.is((await rita(first!).send("GET", "/v1/jobs")).status, 401, "refused at once where it was revoked");
  await eventually("the other gateway to refuse rita", async () => ((await rita(second!).send("GET", "/v1/jobs")).status === 401 ? true : undefined), 10_000);
  const again = await cell.client.addUser("rita", "viewer");
  t.not(again.token, added.token);
  t.is((await rita(first!).send("GET", "/v1/jobs")).status, 401, "the old token stays dead when the name comes back");
});

test("the CLI's token: the local cell's admin token, --token, CORRAL_TOKEN, and saved contexts", async (t) => {
  t.is((await corral(["--dir", cell.cell.dir, "auth", "token"])).trim(), cell.adminToken);
  t.is((await corral(["--dir", cell.cell.dir, "auth", "whoami"])).trim(), "tester (admin)");
  t.regex(await corral(["--dir", cell.cell.dir, "--token", tokens["alice"]!, "auth", "whoami"]), /^alice \(user\)/);
  t.regex(await corral(["--dir", cell.cell.dir, "auth", "whoami"], { env: { CORRAL_TOKEN: tokens["vera"]! } }), /^vera \(viewer\)/);

  const home = mkdtempSync(join(tmpdir(), "corral-config-"));
  const config = join(home, "config.json");
  const env = { CORRAL_CONFIG: config, CORRAL_TOKEN: "" };
  await corral(["config", "set-context", "work", "--gateway", cell.gateway, "--token", tokens["bob"]!], { env, cwd: home });
  await corral(["config", "set-context", "other", "--gateway", cell.cell.gateways![1]!, "--token", tokens["alice"]!], { env, cwd: home });
  t.is(statSync(config).mode & 0o777, 0o600, "the config holds tokens: the user's alone");
  // No local cell where it runs: the current context (the first saved) is used.
  t.is((await corral(["auth", "whoami"], { env, cwd: home })).trim(), "bob (user)");
  t.is((await corral(["--context", "other", "auth", "whoami"], { env, cwd: home })).trim(), "alice (user)");
  await corral(["config", "use-context", "other"], { env, cwd: home });
  t.is((await corral(["auth", "whoami"], { env, cwd: home })).trim(), "alice (user)");
  const listed = await corral(["config", "get-contexts", "--json"], { env, cwd: home });
  t.deepEqual((JSON.parse(listed) as { contexts: { name: string; current: boolean }[] }).contexts.map((context) => `${context.name}${context.current ? "*" : ""}`), ["work", "other*"]);
  t.false(listed.includes(tokens["bob"]!));
  const missing = await t.throwsAsync(corral(["--context", "nope", "auth", "token"], { env, cwd: home }));
  t.regex((missing as Error & { stderr: string }).stderr, /no context 'nope'.*there are: work, other/);
  t.true(readFileSync(config, "utf8").includes(tokens["bob"]!));
});

test("every change asked of the cell is audited: who, what, which, from where, and how it ended; admins alone read it", async (t) => {
  const bobs = (await as("bob").submit(sleeperJob("audited"), "audited.borg")).job;
  t.is((await as("alice").send("DELETE", `/v1/jobs/${bobs.id}`)).status, 403);
  t.is((await new GatewayClient(cell.gateway, { token: undefined }).send("DELETE", `/v1/jobs/${bobs.id}`)).status, 401);
  t.is((await as("bob").send("POST", "/v1/jobs/audited/scale", { replicas: 2 })).status, 200);
  type Printed = { records: { user?: string; action: string; target?: string; address: string; status: number; outcome: string; code?: string }[]; more: boolean };
  const about = (records: Printed["records"]) => records.filter((record) => record.target === bobs.id);
  const seen = await eventually("the four records", async () => {
    const printed = JSON.parse(await corral(["--dir", cell.cell.dir, "audit", "--since", "10m", "--json"])) as Printed;
    return about(printed.records).length >= 4 ? about(printed.records) : undefined;
  }, 20_000);
  t.deepEqual(
    seen.map((record) => [record.user ?? "(unknown)", record.action, record.outcome, record.status, record.code ?? ""]),
    [
      ["bob", "job.submit", "ok", 201, ""],
      ["alice", "job.kill", "refused", 403, "forbidden"],
      ["(unknown)", "job.kill", "refused", 401, "unauthenticated"],
      ["bob", "job.scale", "ok", 200, ""],
    ],
  );
  t.true(seen.every((record) => record.address === "127.0.0.1"));
  const alices = JSON.parse(await corral(["--dir", cell.cell.dir, "audit", "--since", "10m", "--user", "alice", "--json"])) as Printed;
  t.true(alices.records.length > 0 && alices.records.every((record) => record.user === "alice"));
  t.regex(await corral(["--dir", cell.cell.dir, "audit", "--since", "10m", "--user", "bob"]), /job\.scale\s.*audited/);
  t.is((await as("vera").send("GET", "/v1/audit")).status, 403);
  t.is((await cell.client.send("GET", "/v1/audit?since=yesterday")).status, 400);
});

test("Redis wants the cell's password, which, like every token, NATS seed and the leader's key, is on no command line and in no log", async (t) => {
  const password = cell.redisPassword!;
  t.truthy(password);
  t.is(statSync(cell.cell.redisPasswordFile!).mode & 0o777, 0o600);
  const port = Number(new URL(cell.cell.redis).port);
  // Spoken to as any process on the machine could: without the password, and with a wrong one.
  const { connect: connectTcp } = await import("node:net");
  const say = (command: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connectTcp(port, "127.0.0.1", () => socket.write(command));
      socket.on("data", (chunk: Buffer) => {
        resolve(chunk.toString());
        socket.destroy();
      });
      socket.on("error", reject);
    });
  t.regex(await say("GET anything\r\n"), /^-NOAUTH/);
  t.regex(await say("AUTH guess\r\n"), /^-WRONGPASS/);
  t.regex(await say(`AUTH ${REDIS_USER} guess\r\n`), /^-WRONGPASS/);
  t.regex(await say(`AUTH ${REDIS_USER} ${password}\r\n`), /^\+OK/);
  // The checkpoint commands find the local cell's password themselves.
  t.regex(await corral(["--dir", cell.cell.dir, "checkpoint", "inspect", "--json"]), /"cell": "identity"|"cell":/);

  // Every process's NATS seed, and the masters' leader key, are secrets too: each in a file of mode 600.
  const auth = cell.cell.natsAuth!;
  const seeds = readdirSync(auth.dir).filter((file) => file.endsWith(".nk")).map((file) => join(auth.dir, file));
  t.true(seeds.length >= cell.cell.processes.filter((p) => !["nats", "redis"].includes(p.role)).length, "a seed for every service");
  for (const file of [...seeds, cell.cell.leaderKey!.privateKeyFile]) t.is(statSync(file).mode & 0o777, 0o600, file);
  const leaderKeyLines = readFileSync(cell.cell.leaderKey!.privateKeyFile, "utf8").split("\n").filter((line) => line.length > 40);
  const secrets = [password, cell.adminToken, ...Object.values(tokens), ...seeds.map((file) => readFileSync(file, "utf8").trim()), ...leaderKeyLines];
  for (const started of cell.cell.processes) {
    const commandLine = readFileSync(`/proc/${started.pid}/cmdline`, "utf8");
    for (const secret of secrets) t.false(commandLine.includes(secret), `${started.name}'s command line`);
  }
  const logs = join(cell.cell.dir, "logs");
  for (const file of readdirSync(logs)) {
    const text = readFileSync(join(logs, file), "utf8");
    for (const secret of secrets) t.false(text.includes(secret), `logs/${file}`);
  }
});
