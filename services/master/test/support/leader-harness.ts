import { jobSpecSchema, MachineDigests, type JobSpec } from "@corral/contracts";
import { createLogger, type NatsConnection } from "@corral/kit";
import { newTask } from "@corral/machines";
import { parseJobSpec } from "@corral/spec";
import type { JobRecord } from "@corral/state";
import { CellState } from "../../src/state/cell-state.js";
import type { CommandBatch } from "../../src/leader/commands.js";
import type { LeaderContext } from "../../src/leader/leader-context.js";
import { Reclamation } from "../../src/scheduling/reclamation.js";
import { FullHeartbeatRequests } from "../../src/heartbeats/heartbeat-requests.js";

export const GIB = 1024 ** 3;
export const MIB = 1024 ** 2;
const log = createLogger("test", "leader-harness");
/**
 * Nomad's test harness: the leader's state in memory and a recording planner in place of
 * Redis and NATS (plain publishes, such as job history, are recorded too). Only what the
 * handlers under test touch is real here; the rest is never called.
 */
export function harness(nodes: { name: string; cpu: number; ramGiB: number; ports: [number, number]; attributes?: Record<string, string> }[]) {
  const state = new CellState();
  for (const node of nodes) {
    state.upsertNode({ name: node.name, host: "h", pid: 1, capacity: { cpu: node.cpu, ram: node.ramGiB * GIB, disk: 100 * GIB }, attributes: node.attributes ?? {}, portRange: node.ports, lastHeartbeat: Date.now(), epochSeen: 1 });
  }
  const recorded: CommandBatch[] = [];
  /** what handlers published straight to NATS (job history entries) */
  const published: { subject: string; data: string }[] = [];
  const nc = { publish: (subject: string, data: string) => void published.push({ subject, data }) };
  const unused = () => {
    throw new Error("not part of the in-memory harness");
  };
  const ctx = {
    cell: "c",
    epoch: 7,
    name: "master-0",
    state,
    log,
    downAfterMs: 5000,
    heartbeats: { direct: 0, forwarded: 0, aliveReported: 0 },
    digests: new MachineDigests(),
    fullHeartbeats: new FullHeartbeatRequests(nc as unknown as NatsConnection, "c"),
    reclamation: new Reclamation(60_000),
    names: { markDirty: () => {}, stop: () => {} },
    policy: "hybrid",
    quota: undefined,
    userLimits: { jobs: 100_000, pendingTasks: 1_000_000 },
    nominations: new Map(),
    lastPreemptionAt: 0,
    termStartedAt: 0,
    commitAndSend: async (batch: CommandBatch) => {
      recorded.push(batch);
    },
    nc,
    get store(): never {
      return unused();
    },
    get commits(): never {
      return unused();
    },
  } as unknown as LeaderContext;
  return { ctx, state, recorded, published };
}

/** Adds a job of user u in cell c for the spec, every task pending. */
function addRecord(state: CellState, spec: JobSpec): JobRecord {
  const job = jobRecord(spec, "u", "c");
  state.addJob(job);
  return job;
}

/** A job record of the spec, every task pending, not yet in any state. */
export function jobRecord(spec: JobSpec, user = "alice", cell = "local"): JobRecord {
  return {
    id: `${spec.name}.${user}.${cell}`,
    name: spec.name,
    user,
    cell,
    spec,
    submittedAt: 1,
    killed: false,
    tasks: Array.from({ length: spec.replicas }, (_, index) => ({ index, lifecycle: newTask(spec.restart), updatedAt: 1, missedHeartbeats: 0 })),
  };
}

/** A job from Borg source fields (binary given). */
export function addJob(state: CellState, name: string, source: string): JobRecord {
  return addRecord(state, parseJobSpec(`job ${name} = { binary = 'x' ${source} }`, { file: "j.borg" }));
}

/** A job record for an already validated spec (alloc sets and jobs in them included), every task pending. */
export function addSpec(state: CellState, fields: Partial<JobSpec> & { name: string }): JobRecord {
  return addRecord(state, jobSpecSchema.parse({ kind: "job", runtime: {}, binary: "x", args: [], env: {}, requirements: { cpu: 1, ram: GIB, disk: 0, ports: 0 }, replicas: 1, priority: "production", restart: "always", gracePeriodMs: 0, ...fields }));
}
