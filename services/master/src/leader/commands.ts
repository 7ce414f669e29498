// What the leader sends once a change is durable: task leases and revocations for borglets, task
// changes for watchers, kicks for schedulers. Gathered beside the change, sent after its commit.
import { leaseBatch, schedulerKick, subjects, taskChanges, type HistoryEntry, type Lease, type Revocation } from "@corral/contracts";
import { publishEvent, type NatsConnection } from "@corral/kit";
import { lostRunThatMayFinishIt } from "@corral/machines";
import type { CellState } from "../state/cell-state.js";
import type { TaskChange, TaskRef } from "../state/task-ref.js";
import { historyEntryOf, publishHistory } from "../jobs/job-history.js";

export function leaseFor(ref: TaskRef, state: Pick<CellState, "task">): Lease {
  const { spec } = ref.job;
  const context = ref.task.lifecycle.context;
  const alloc = context.alloc === undefined ? undefined : state.task(context.alloc)?.job.spec;
  const lostRun = lostRunThatMayFinishIt(context);
  return {
    taskId: ref.id,
    incarnation: context.incarnation,
    binary: spec.binary,
    ...(spec.image === undefined ? {} : { image: spec.image }),
    ...(context.alloc === undefined ? {} : { alloc: context.alloc }),
    ...(alloc === undefined ? {} : { allocSize: { cpu: alloc.requirements.cpu, ram: alloc.requirements.ram, disk: alloc.requirements.disk }, allocPriority: alloc.priority }),
    ...(spec.volumes.length === 0 ? {} : { volumes: spec.volumes }),
    ...(spec.health === undefined ? {} : { health: spec.health }),
    args: spec.args,
    env: spec.env,
    ports: context.ports,
    requirements: spec.requirements,
    priority: spec.priority,
    gracePeriodMs: spec.gracePeriodMs,
    ...(spec.runAsRoot === true ? { runAsRoot: true } : {}),
    ...(lostRun === undefined ? {} : { afterLostRun: lostRun }),
  };
}

export function revocationFor(ref: TaskRef, reason: string, gracePeriodMs = ref.job.spec.gracePeriodMs): Revocation {
  return {
    taskId: ref.id,
    incarnation: ref.task.lifecycle.context.incarnation,
    gracePeriodMs,
    reason,
  };
}

/** The leader's term as machines check it: its epoch, and its signature of the epoch. */
export interface SignedTerm {
  epoch: number;
  signature: string;
}

interface LeaseMessage {
  node: string;
  grants: Lease[];
  revokes: Revocation[];
}

/**
 * What one change sends once it is committed: lease grants and revocations batched per
 * machine (one message per machine, not per task), task changes for watchers, and whether
 * schedulers should look again.
 */
export class CommandBatch {
  private readonly grants = new Map<string, Lease[]>();
  private readonly revokes = new Map<string, Revocation[]>();
  private readonly changes: TaskChange[] = [];
  private kickSchedulers = false;

  grant(node: string, lease: Lease): void {
    const list = this.grants.get(node) ?? [];
    list.push(lease);
    this.grants.set(node, list);
  }

  revoke(node: string, revocation: Revocation): void {
    const list = this.revokes.get(node) ?? [];
    list.push(revocation);
    this.revokes.set(node, list);
  }

  /** Records a lifecycle change; one that frees capacity or adds pending work wakes the schedulers. */
  changed(change: TaskChange | undefined): TaskChange | undefined {
    if (change === undefined) return undefined;
    this.changes.push(change);
    if (change.to === "pending" || change.to === "dead") this.kickSchedulers = true;
    return change;
  }

  wakeSchedulers(): void {
    this.kickSchedulers = true;
  }

  /** What the batch will send, per machine (for tests and logs). */
  get granted(): ReadonlyMap<string, readonly Lease[]> {
    return this.grants;
  }

  get revoked(): ReadonlyMap<string, readonly Revocation[]> {
    return this.revokes;
  }

  get isEmpty(): boolean {
    return this.grants.size === 0 && this.revokes.size === 0 && this.changes.length === 0 && !this.kickSchedulers;
  }

  send(nc: NatsConnection, cell: string, term: SignedTerm, pendingCount: number): void {
    CommandBatch.sendAll([this], nc, cell, term, pendingCount);
  }

  /**
   * Sends what several batches committed together would each send, as few messages as keeps
   * their meaning: every lifecycle change in one task-changes event, each job's history in
   * one message, one scheduler kick, and per machine one lease batch, unless a batch revokes
   * there after an earlier one granted (a borglet carries out a lease batch's revocations
   * before its grants, so that one stays a message of its own, in order). A task start a
   * borglet reports is a batch of one change: sent alone, each cost the leader and NATS a
   * message or two per task.
   */
  static sendAll(batches: readonly CommandBatch[], nc: NatsConnection, cell: string, term: SignedTerm, pendingCount: number): void {
    const { epoch } = term;
    for (const message of CommandBatch.leaseMessages(batches)) publishEvent(nc, subjects.nodeCommands(cell, message.node), leaseBatch, cell, { ...message, termSignature: term.signature }, epoch);
    const changes = batches.length === 1 ? batches[0]!.changes : batches.flatMap((batch) => batch.changes);
    if (changes.length > 0) {
      const history = new Map<string, HistoryEntry[]>();
      for (const change of changes) {
        const entry = historyEntryOf(change);
        if (entry === undefined) continue;
        const list = history.get(change.ref.job.id) ?? [];
        list.push(entry);
        history.set(change.ref.job.id, list);
      }
      publishHistory(nc, cell, history);
      publishEvent(nc, subjects.taskEvents(cell), taskChanges, cell, {
        changes: changes.map(({ ref, to }) => {
          const context = ref.task.lifecycle.context;
          const change: { taskId: string; incarnation: number; state: string; node?: string; reason?: string } = {
            taskId: ref.id,
            incarnation: context.incarnation,
            state: to,
          };
          if (context.node !== undefined) change.node = context.node;
          if (context.reason !== undefined) change.reason = context.reason;
          return change;
        }),
      });
    }
    if (batches.some((batch) => batch.kickSchedulers)) publishEvent(nc, subjects.schedKick(cell), schedulerKick, cell, { pending: pendingCount }, epoch);
  }

  /** The lease batches to send, per machine in order. */
  static leaseMessages(batches: readonly CommandBatch[]): LeaseMessage[] {
    const messages: LeaseMessage[] = [];
    const open = new Map<string, LeaseMessage>();
    for (const batch of batches) {
      for (const node of new Set([...batch.grants.keys(), ...batch.revokes.keys()])) {
        const revokes = batch.revokes.get(node) ?? [];
        let message = open.get(node);
        if (message === undefined || (revokes.length > 0 && message.grants.length > 0)) {
          message = { node, grants: [], revokes: [] };
          open.set(node, message);
          messages.push(message);
        }
        message.revokes.push(...revokes);
        message.grants.push(...(batch.grants.get(node) ?? []));
      }
    }
    return messages;
  }
}
