// Several "hosts" on this one Linux machine, for multi-host cells and their fault tests:
// each host a network namespace with its own IPv4 address in one /24, all on one bridge in
// the root namespace, which holds the /24's first address. Hosts reach each other and the
// root namespace, and nothing else: they have no default route. Needs root (ip netns, veth).
import { execFile, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { CorralError } from "@corral/contracts";
import { inNetworkNamespace, type Placement } from "./processes.js";
import { systemExecutable } from "./executables.js";

const run = promisify(execFile);

export interface HostNetworkRecord {
  bridge: string;
  rootAddress: string;
  hosts: NetworkHost[];
}

export interface NetworkHost {
  /** host-0, host-1 … */
  name: string;
  /** the network namespace it is */
  netns: string;
  address: string;
  /** the root namespace's end of its link: down cuts the host off, netem slows it */
  link: string;
}

/** A /24 holds 253 hosts beside the bridge's own address and the broadcast. */
export const MAX_HOSTS = 253;

const isHostCount = (count: number) => Number.isInteger(count) && count >= 1 && count <= MAX_HOSTS;

/** A host count given as text (a flag such as `--hosts`): the number, or an error naming the flag. */
export function parseHostCount(text: string, flag: string): number {
  const count = Number(text);
  if (!isHostCount(count)) throw new CorralError("bad_request", `${flag} must be a whole number from 1 to ${MAX_HOSTS} (the hosts share one /24), not '${text}'`, flag);
  return count;
}

/** What a failed tool said: its stderr, or else the error's message. */
const toolSaid = (error: unknown) => ((error as { stderr?: string }).stderr ?? (error as Error).message).trim();

async function ip(...args: string[]): Promise<string> {
  try {
    return (await run(systemExecutable("ip"), args)).stdout;
  } catch (error) {
    throw new CorralError("unavailable", `ip ${args.join(" ")} failed: ${toolSaid(error)}`);
  }
}

/** A /24 no interface or route of this machine uses yet, in 10.200.0.0–10.239.255.0. */
async function unusedSubnet(): Promise<string> {
  const taken = await ip("-4", "route", "show", "table", "all");
  for (let attempt = 0; attempt < 100; attempt++) {
    const [a, b] = randomBytes(2);
    const prefix = `10.${200 + (a! % 40)}.${b}`;
    if (!taken.includes(`${prefix}.`)) return prefix;
  }
  throw new CorralError("unavailable", "found no free /24 in 10.200.0.0/13 for the hosts");
}

export const newTag = () => randomBytes(3).toString("hex");

/** Host i's name, namespace and root-side link for a network tagged `tag`. */
const hostNames = (tag: string, i: number) => ({ name: `host-${i}`, netns: `corral-${tag}-h${i}`, link: `cv${tag}${i}` });

/** The nftables table that impairs one host's link, named after the link (unique per cell). */
const impairmentTable = (host: NetworkHost) => `corral_${host.link}`;

/** Runs an nftables script given on stdin. */
function nft(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(systemExecutable("nft"), ["-f", "-"], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(Object.assign(new Error(`nft exited ${code}`), { stderr }))));
    child.stdin.end(script);
  });
}

export class HostNetwork {
  private removed = false;

  private constructor(
    /** the bridge in the root namespace */
    readonly bridge: string,
    /** the root namespace's address on the bridge: what hosts reach it at */
    readonly rootAddress: string,
    readonly hosts: readonly NetworkHost[],
  ) {}

  /**
   * Makes `count` hosts. A failure part way removes what was made. `tag` (a few letters)
   * goes into every name, so that what a cell made can be told from what another made.
   */
  static async create(count: number, tag = newTag()): Promise<HostNetwork> {
    HostNetwork.check(count, tag);
    const subnet = await unusedSubnet();
    const bridge = `cb${tag}`;
    const hosts: NetworkHost[] = [];
    const network = new HostNetwork(bridge, `${subnet}.1`, hosts);
    try {
      await ip("link", "add", bridge, "type", "bridge");
      await ip("addr", "add", `${subnet}.1/24`, "dev", bridge);
      await ip("link", "set", bridge, "up");
      for (let i = 0; i < count; i++) {
        const host: NetworkHost = { ...hostNames(tag, i), address: `${subnet}.${i + 2}` };
        const inner = `ci${tag}${i}`;
        await ip("netns", "add", host.netns);
        hosts.push(host);
        await ip("link", "add", host.link, "type", "veth", "peer", "name", inner);
        await ip("link", "set", inner, "netns", host.netns);
        await ip("link", "set", host.link, "master", bridge);
        await ip("link", "set", host.link, "up");
        await ip("-n", host.netns, "link", "set", "lo", "up");
        await ip("-n", host.netns, "addr", "add", `${host.address}/24`, "dev", inner);
        await ip("-n", host.netns, "link", "set", inner, "up");
      }
      return network;
    } catch (error) {
      await network.remove();
      throw error;
    }
  }

  /** Refuses a count one /24 cannot hold, a user who cannot make namespaces, or a bad tag; makes nothing. */
  static check(count: number, tag: string): void {
    if (!isHostCount(count)) throw new CorralError("bad_request", `hosts is ${count}: a cell has 1 to ${MAX_HOSTS} hosts, as many as one /24 holds beside the bridge`, "hosts");
    if (process.getuid?.() !== 0) throw new CorralError("bad_request", "hosts are network namespaces, which only root can make: run as root (sudo)", "hosts");
    if (!/^[a-z0-9]{1,6}$/.test(tag)) throw new CorralError("bad_request", `tag '${tag}' must be 1-6 lower-case letters or digits (it goes into interface names)`, "tag");
  }

  /**
   * The names `create(count, tag)` will use, addresses not yet chosen: recorded before
   * anything is made, a teardown removes whatever part of it was made by then.
   */
  static planned(count: number, tag: string): HostNetworkRecord {
    return { bridge: `cb${tag}`, rootAddress: "", hosts: Array.from({ length: count }, (_, i) => ({ ...hostNames(tag, i), address: "" })) };
  }

  host(name: string): NetworkHost {
    const found = this.hosts.find((host) => host.name === name);
    if (found === undefined) throw new CorralError("not_found", `no host ${name}; the hosts are ${this.hosts.map((host) => host.name).join(", ")}`);
    return found;
  }

  /** What the cell file keeps of it, so that `cell down` (or a watchdog) can remove it later. */
  toRecord(): HostNetworkRecord {
    return { bridge: this.bridge, rootAddress: this.rootAddress, hosts: this.hosts.map((host) => ({ ...host })) };
  }

  /** The network a cell file records, to cut, heal or remove it from another process. */
  static fromRecord(record: HostNetworkRecord): HostNetwork {
    return new HostNetwork(record.bridge, record.rootAddress, record.hosts);
  }

  /** Where a process on `host` runs and listens (see processes.ts). */
  placement(host: NetworkHost): Placement {
    return { address: host.address, host: { name: host.name, netns: host.netns } };
  }

  /** Starts `command` inside the host's network namespace (nsenter: the mounts stay this machine's). */
  spawn(host: NetworkHost, command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const wrapped = inNetworkNamespace(host.netns, command, args);
    return spawn(wrapped.command, wrapped.args, options);
  }

  /** The host's link goes down: it neither sends nor receives, as if its cable were pulled. */
  async cut(host: NetworkHost): Promise<void> {
    await ip("link", "set", host.link, "down");
  }

  async heal(host: NetworkHost): Promise<void> {
    await ip("link", "set", host.link, "up");
  }

  /** Traffic to the host is delayed and a share of it lost (tc netem on its link). */
  async degrade(host: NetworkHost, { delayMs, lossPercent }: { delayMs: number; lossPercent: number }): Promise<void> {
    try {
      await run(systemExecutable("tc"), ["qdisc", "replace", "dev", host.link, "root", "netem", "delay", `${delayMs}ms`, "loss", `${lossPercent}%`]);
    } catch (error) {
      const said = toolSaid(error);
      if (/qdisc kind is unknown/i.test(said)) {
        throw new CorralError("unavailable", `this kernel has no netem queueing discipline (module sch_netem), so delay and loss cannot be simulated on ${host.name}; cutting its link still works`);
      }
      throw new CorralError("unavailable", `tc netem on ${host.link} failed: ${said}`);
    }
  }

  async restore(host: NetworkHost): Promise<void> {
    await run(systemExecutable("tc"), ["qdisc", "del", "dev", host.link, "root"]).catch(() => {});
  }

  /**
   * A lossy, slow link without netem (which some kernels lack): nftables drops `lossPercent`
   * of the packets each way on the host's link, and a token bucket (tc tbf) limits what it
   * receives to `rateKbit`. It adds no fixed delay: only queueing when the rate is reached.
   */
  async impair(host: NetworkHost, { lossPercent, rateKbit }: { lossPercent: number; rateKbit?: number }): Promise<void> {
    if (!(lossPercent >= 0 && lossPercent < 100)) throw new CorralError("bad_request", `lossPercent is ${lossPercent}: give 0 to 99`, "lossPercent");
    const table = impairmentTable(host);
    const script = [
      `table netdev ${table} {`,
      `  chain from_host { type filter hook ingress device "${host.link}" priority 0; numgen random mod 100 < ${Math.round(lossPercent)} drop; }`,
      `  chain to_host { type filter hook egress device "${host.link}" priority 0; numgen random mod 100 < ${Math.round(lossPercent)} drop; }`,
      "}",
    ].join("\n");
    await this.unimpair(host);
    try {
      await nft(script);
      if (rateKbit !== undefined) await run(systemExecutable("tc"), ["qdisc", "replace", "dev", host.link, "root", "tbf", "rate", `${rateKbit}kbit`, "burst", "16kb", "latency", "500ms"]);
    } catch (error) {
      await this.unimpair(host);
      throw new CorralError("unavailable", `could not impair ${host.name}'s link: ${toolSaid(error)}`);
    }
  }

  async unimpair(host: NetworkHost): Promise<void> {
    await run(systemExecutable("nft"), ["delete", "table", "netdev", impairmentTable(host)]).catch(() => {});
    await this.restore(host);
  }

  /** Removes every namespace, link and the bridge it made; safe to call twice. */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    for (const host of this.hosts) {
      await this.unimpair(host);
      // Deleting the namespace deletes the inner end of the veth, and with it the outer end.
      await ip("netns", "del", host.netns).catch(() => {});
      await ip("link", "del", host.link).catch(() => {});
    }
    await ip("link", "del", this.bridge).catch(() => {});
  }
}
