import { execFile } from "node:child_process";
import { connect } from "node:net";
import { promisify } from "node:util";
import test from "ava";
import { HostNetwork, MAX_HOSTS } from "../index.js";

const run = promisify(execFile);

/** How long a TCP connection to address:port takes, or the error that ended it (2 s at most). */
function connectTime(address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host: address, port, timeout: 2000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(performance.now() - started);
    });
    socket.once("timeout", () => {
      socket.destroy();
      reject(new Error("timed out"));
    });
    socket.once("error", reject);
  });
}

const SERVER = `require("node:net").createServer((s) => s.on("error", () => {}).end("hi")).listen(Number(process.argv[2]), process.argv[1], () => console.log("listening"))`;

test("hosts reach each other and the root namespace, nothing else; a cut link and netem are real; remove leaves nothing", async (t) => {
  const network = await HostNetwork.create(3);
  t.teardown(() => network.remove());
  const [h0, h1] = network.hosts;
  t.is(network.hosts.length, 3);
  t.is(new Set(network.hosts.map((host) => host.address)).size, 3);

  // A server on host-1, reached from the root namespace and from host-0.
  const server = network.spawn(h1!, process.execPath, ["-e", SERVER, h1!.address, "7000"], { stdio: ["ignore", "pipe", "inherit"] });
  t.teardown(() => server.kill("SIGKILL"));
  await new Promise<void>((resolve) => server.stdout!.once("data", () => resolve()));
  t.true((await connectTime(h1!.address, 7000)) >= 0, "root namespace → host-1");
  const client = `require("node:net").connect(7000, process.argv[1]).on("data", (d) => { console.log(String(d)); process.exit(0); }).on("error", (e) => { console.error(e.message); process.exit(1); })`;
  const fromHost0 = await run("ip", ["netns", "exec", h0!.netns, process.execPath, "-e", client, h1!.address]);
  t.is(fromHost0.stdout.trim(), "hi", "host-0 → host-1");

  // No way out: a host has only its /24.
  const out = await t.throwsAsync(run("ip", ["-n", h0!.netns, "route", "get", "1.1.1.1"]));
  t.regex(String((out as { stderr?: string }).stderr), /unreachable/i);

  await network.cut(h1!);
  await t.throwsAsync(connectTime(h1!.address, 7000), undefined, "a cut host does not answer");
  await network.heal(h1!);
  t.true((await connectTime(h1!.address, 7000)) >= 0, "healed");

  // Some kernels (this project's CI VM's among them) are built without netem: then the
  // refusal must say so plainly, and nothing is left half-configured.
  const degraded = await network.degrade(h1!, { delayMs: 100, lossPercent: 0 }).then(
    () => true,
    (error: Error) => {
      t.regex(error.message, /this kernel has no netem queueing discipline \(module sch_netem\)/);
      return false;
    },
  );
  if (degraded) t.true((await connectTime(h1!.address, 7000)) >= 100, "netem delays the handshake");
  await network.restore(h1!);
  t.true((await connectTime(h1!.address, 7000)) >= 0, "restored");

  await network.remove();
  const namespaces = (await run("ip", ["netns", "list"])).stdout;
  for (const host of network.hosts) t.false(namespaces.includes(host.netns), `${host.netns} removed`);
  await t.throwsAsync(run("ip", ["link", "show", network.bridge]), undefined, "the bridge is removed");
});

test("a host count outside one /24 is refused, naming the field, and nothing is made", async (t) => {
  const before = (await run("ip", ["netns", "list"])).stdout;
  await t.throwsAsync(HostNetwork.create(0), { message: /hosts is 0: a cell has 1 to 253 hosts/ });
  await t.throwsAsync(HostNetwork.create(MAX_HOSTS + 1), { message: /hosts is 254/ });
  t.is((await run("ip", ["netns", "list"])).stdout, before);
});
