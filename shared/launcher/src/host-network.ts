// Several "hosts" on this one Linux machine, for multi-host cells and their fault tests:
// each host a network namespace with its own IPv4 address in one /24, all on one bridge in
// the root namespace, which holds the /24's first address. Hosts reach each other and the
// root namespace, and nothing else: they have no default route. Needs root (ip netns, veth).
import { execFile, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { CorralError } from "@corral/contracts";
import type { Placement } from "./processes.js";

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

async function ip(...args: string[]): Promise<string> {
  try {
    return (await run("ip", args)).stdout;
  } catch (error) {
    throw new CorralError("unavailable", `ip ${args.join(" ")} failed: ${((error as { stderr?: string }).stderr ?? (error as Error).message).trim()}`);
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
  static async create(count: number, tag = randomBytes(3).toString("hex")): Promise<HostNetwork> {
    if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) {
      throw new CorralError("bad_request", `hosts is ${count}: a cell has 1 to ${MAX_HOSTS} hosts, as many as one /24 holds beside the bridge`, "hosts");
    }
    if (process.getuid?.() !== 0) throw new CorralError("bad_request", "hosts are network namespaces, which only root can make: run as root (sudo)", "hosts");
    if (!/^[a-z0-9]{1,6}$/.test(tag)) throw new CorralError("bad_request", `tag '${tag}' must be 1-6 lower-case letters or digits (it goes into interface names)`, "tag");
    const subnet = await unusedSubnet();
    const bridge = `cb${tag}`;
    const hosts: NetworkHost[] = [];
    const network = new HostNetwork(bridge, `${subnet}.1`, hosts);
    try {
      await ip("link", "add", bridge, "type", "bridge");
      await ip("addr", "add", `${subnet}.1/24`, "dev", bridge);
      await ip("link", "set", bridge, "up");
      for (let i = 0; i < count; i++) {
        const host: NetworkHost = { name: `host-${i}`, netns: `corral-${tag}-h${i}`, address: `${subnet}.${i + 2}`, link: `cv${tag}${i}` };
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
    return spawn("nsenter", [`--net=/run/netns/${host.netns}`, "--", command, ...args], options);
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
      await run("tc", ["qdisc", "replace", "dev", host.link, "root", "netem", "delay", `${delayMs}ms`, "loss", `${lossPercent}%`]);
    } catch (error) {
      const said = ((error as { stderr?: string }).stderr ?? (error as Error).message).trim();
      if (/qdisc kind is unknown/i.test(said)) {
        throw new CorralError("unavailable", `this kernel has no netem queueing discipline (module sch_netem), so delay and loss cannot be simulated on ${host.name}; cutting its link still works`);
      }
      throw new CorralError("unavailable", `tc netem on ${host.link} failed: ${said}`);
    }
  }

  async restore(host: NetworkHost): Promise<void> {
    await run("tc", ["qdisc", "del", "dev", host.link, "root"]).catch(() => {});
  }

  /** Removes every namespace, link and the bridge it made; safe to call twice. */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    for (const host of this.hosts) {
      // Deleting the namespace deletes the inner end of the veth, and with it the outer end.
      await ip("netns", "del", host.netns).catch(() => {});
      await ip("link", "del", host.link).catch(() => {});
    }
    await ip("link", "del", this.bridge).catch(() => {});
  }
}
