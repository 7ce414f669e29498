import type { FederatedJobRecord, FederationPolicy } from "@corral/contracts";
import { CellLedger } from "./cell-ledger.js";

/** What the gateway saw of one cell for one federated job in this pass. */
export interface CellObservation {
  /** the cell's leader answered this pass */
  reachable: boolean;
  /** unanswered for longer than the gateway's cell-down-after: its share counts as lost */
  down: boolean;
  /** the member job in that cell, if the cell answered and has one */
  member?: MemberObservation;
}

export interface MemberObservation {
  replicas: number;
  /** running (and not unhealthy) tasks with an index below replicas */
  running: number;
  /** tasks below replicas that ran to their end under their restart policy (a batch job's finished work): nothing to run again */
  finished: number;
  /** tasks being stopped: what a disruption budget counts */
  terminating: number;
  /** tasks not dead */
  live: number;
  killed: boolean;
  /** carries this federated job's label: a job of the same name that is not ours is never touched */
  ours: boolean;
}

export type CellAction =
  | { kind: "submit"; cell: string; replicas: number; attempt: number }
  | { kind: "scale"; cell: string; replicas: number }
  | { kind: "kill"; cell: string };

export interface Decision {
  next: FederatedJobRecord;
  actions: CellAction[];
  /** whether `next` differs from the record it came from, so it must be written */
  changed: boolean;
}

const MAX_EVENTS = 50;
/** The record schema's bound on an event's text. */
const MAX_EVENT_TEXT = 1000;

/**
 * `total` split in proportion to `weights`, every share whole and the shares summing to
 * `total`, by the Balinski–Young quota method: seats are handed out one at a time, each to
 * the entry with the highest weight per seat held among those still below their upper
 * quota. Unlike largest remainder it is house-monotone (the split of n + 1 is the split of n
 * plus one), so scaling a spread job up only adds tasks and scaling down only removes them,
 * and every share stays within 1 of its exact proportion. Ties go to the earlier entry.
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map(() => 0);
  if (sum <= 0) return shares;
  for (let seats = 1; seats <= total; seats++) {
    let best = -1;
    for (let index = 0; index < weights.length; index++) {
      const weight = weights[index]!;
      // Below the upper quota of this house size: shares[index] < seats * weight / sum.
      if (weight <= 0 || shares[index]! * sum >= seats * weight) continue;
      // weight / (held + 1) greater than the best's, by cross-multiplication so ties are exact.
      if (best < 0 || weight * (shares[best]! + 1) > weights[best]! * (shares[index]! + 1)) best = index;
    }
    shares[best]! += 1;
  }
  return shares;
}

/** Each cell's share with every cell healthy: spread by weight, fill and pin all in the first cell. */
export function homePlacement(replicas: number, policy: FederationPolicy): Record<string, number> {
  const shares = policy.policy === "spread" ? apportion(replicas, policy.weights) : policy.cells.map((_, index) => (index === 0 ? replicas : 0));
  return Object.fromEntries(policy.cells.map((cell, index) => [cell, shares[index]!]));
}

/** Adds a decision to the record's bounded event list, its text cut to the schema's bound. */
export function note(record: FederatedJobRecord, now: number, text: string): void {
  record.events.push({ at: now, text: text.length <= MAX_EVENT_TEXT ? text : `${text.slice(0, MAX_EVENT_TEXT - 1)}…` });
  if (record.events.length > MAX_EVENTS) record.events.splice(0, record.events.length - MAX_EVENTS);
}

/**
 * A federated job scaled to `replicas` (kubectl scale), pure; undefined when that is already
 * its count. The shares every cell would hold when healthy follow the new count. Scaling up
 * gives each cell what it lacks of its new share (the next reconciliation moves the share of
 * a cell that is down, refused or stuck, as for any shortfall). Scaling down takes the
 * excess back at once, first from the cells holding most above their new share (fill: the
 * least preferred first), as a scale down of one cell's job stops its tasks at once.
 */
export function rescale(record: FederatedJobRecord, policy: FederationPolicy, replicas: number, now: number): FederatedJobRecord | undefined {
  const before = record.spec.replicas;
  if (replicas === before) return undefined;
  const next: FederatedJobRecord = structuredClone(record);
  next.spec.replicas = replicas;
  next.home = homePlacement(replicas, policy);
  const over = (cell: string) => (next.assigned[cell] ?? 0) - (next.home[cell] ?? 0);
  const held = policy.cells.reduce((sum, cell) => sum + (next.assigned[cell] ?? 0), 0);
  const changes: string[] = [];
  if (held > replicas) {
    // The new shares add up to the new count, so what is above them covers the excess.
    let excess = held - replicas;
    const order = policy.policy === "fill" ? [...policy.cells].reverse() : [...policy.cells].sort((a, b) => over(b) - over(a));
    for (const cell of order) {
      const take = Math.min(excess, Math.max(0, over(cell)));
      if (take === 0) continue;
      next.assigned[cell] = (next.assigned[cell] ?? 0) - take;
      excess -= take;
      changes.push(`stopping ${take} in ${cell}`);
    }
  } else if (held < replicas) {
    // Each cell up to its new share, most short first, so the job ends up as spread as a new one would be.
    let missing = replicas - held;
    for (const cell of [...policy.cells].sort((a, b) => over(a) - over(b))) {
      const add = Math.min(missing, Math.max(0, -over(cell)));
      if (add === 0) continue;
      next.assigned[cell] = (next.assigned[cell] ?? 0) + add;
      missing -= add;
      changes.push(`adding ${add} in ${cell}`);
    }
  }
  note(next, now, `scaled from ${before} to ${replicas} replicas${changes.length > 0 ? `: ${changes.join(", ")}` : ""}`);
  return next;
}

/**
 * One reconciliation step for a federated job, pure: from the record and what each cell
 * shows now, the next record and what to ask of the cells.
 *
 * - A cell's share counts as provided while it may still come (credit = assigned), as its
 *   running tasks once it has been short for longer than spill_after or refused part of it,
 *   and as nothing once the cell is down. What the credit lacks of the job's replicas is
 *   placed in the cells that can take it: by weight (spread) or the first in preference
 *   order (fill); a pinned job stays where it is.
 * - Extras placed elsewhere are taken back only once more than the job's replicas are
 *   running (start first, then stop), no more at a time than the disruption budget allows
 *   with what is already stopping, so the running count never drops below the replicas.
 */
export function decide(record: FederatedJobRecord, policy: FederationPolicy, seen: ReadonlyMap<string, CellObservation>, now: number): Decision {
  const next: FederatedJobRecord = structuredClone(record);
  const before = JSON.stringify(record);
  const pass: Pass = { record, next, policy, now, cells: new CellLedger(next, policy, seen, now) };
  const actions = next.killed ? stopEveryMember(pass) : reconcile(pass);
  return { next, actions, changed: JSON.stringify(next) !== before };
}

/** One reconciliation step: the record it started from, the one it decides, and the cells as seen. */
interface Pass {
  record: FederatedJobRecord;
  next: FederatedJobRecord;
  policy: FederationPolicy;
  now: number;
  cells: CellLedger;
}

function stopEveryMember({ next, policy, now, cells }: Pass): CellAction[] {
  const actions: CellAction[] = [];
  let stopped = true;
  for (const cell of policy.cells) {
    const member = cells.ours(cell);
    if (!cells.observed(cell).reachable) stopped = false;
    else if (member !== undefined && member.live > 0) {
      stopped = false;
      if (!member.killed) actions.push({ kind: "kill", cell });
    }
  }
  // Every member seen with nothing left alive: the name may be used again.
  if (stopped && next.stoppedAt === undefined) {
    next.stoppedAt = now;
    note(next, now, "stopped in every cell");
  }
  return actions;
}

function reconcile(pass: Pass): CellAction[] {
  const { record, policy, cells } = pass;
  refuseForeignJobs(pass);
  trackShortfalls(pass);
  const credited = policy.cells.reduce((sum, cell) => sum + cells.credit(cell), 0);
  const deficit = record.spec.replicas - credited;
  if (deficit > 0 && policy.policy !== "pin") placeDeficit(pass, deficit);
  if (deficit <= 0) takeBackExtras(pass);
  return cellActions(pass);
}

/** A job of the same name that is not ours: that cell cannot hold our share. */
function refuseForeignJobs({ record, next, policy, now, cells }: Pass): void {
  for (const cell of policy.cells) {
    const member = cells.observed(cell).member;
    if (member !== undefined && !member.ours && !member.killed && member.live > 0 && next.refused[cell] === undefined) {
      next.refused[cell] = { at: now, message: `cell ${cell} already runs a job named ${record.name} of ${record.user} that is not part of this federated job` };
      note(next, now, `cell ${cell} refused: ${next.refused[cell].message}`);
    }
  }
}

/** When each cell fell short of its share: past spill_after, its share counts only as what runs. */
function trackShortfalls({ next, policy, now, cells }: Pass): void {
  for (const cell of policy.cells) {
    if (!cells.observed(cell).reachable) continue; // unknown: the clock keeps running from what was last seen
    if ((next.assigned[cell] ?? 0) > cells.provided(cell)) next.shortSince[cell] ??= now;
    else delete next.shortSince[cell];
  }
}

/** What the credits lack goes to the cells that can take it: by weight (spread), or all to the first (fill). */
function placeDeficit({ next, policy, now, cells }: Pass, deficit: number): void {
  const candidates = policy.cells.filter((cell) => cells.observed(cell).reachable && !cells.observed(cell).down && next.refused[cell] === undefined && !cells.stuck(cell));
  const why = policy.cells
    .filter((cell) => cells.credit(cell) < (next.assigned[cell] ?? 0))
    .map((cell) => `${cell}: ${cells.observed(cell).down ? "down" : next.refused[cell] !== undefined ? "refused" : `${(next.assigned[cell] ?? 0) - cells.provided(cell)} not running after ${policy.spillAfterMs / 1000}s`}`)
    .join(", ");
  if (candidates.length === 0) {
    const text = `${deficit} replicas have no cell to go to (${why || "no cell answers"})`;
    if (next.events.at(-1)?.text !== text) note(next, now, text);
    return;
  }
  const weights = candidates.map((cell) => policy.weights[policy.cells.indexOf(cell)] ?? 1);
  const shares = policy.policy === "fill" ? candidates.map((_, index) => (index === 0 ? deficit : 0)) : apportion(deficit, weights);
  const moved: string[] = [];
  candidates.forEach((cell, index) => {
    const share = shares[index]!;
    if (share === 0) return;
    next.assigned[cell] = (next.assigned[cell] ?? 0) + share;
    next.shortSince[cell] = now; // its new share gets its own time to start
    moved.push(`${share} to ${cell}`);
  });
  note(next, now, `placed ${moved.join(", ")} (${why || "short of replicas"})`);
}

/**
 * Take back extras only while more than the replicas run (counting only what survives the
 * scale downs already decided), within the disruption budget.
 */
function takeBackExtras({ record, next, policy, now, cells }: Pass): void {
  const reachable = policy.cells.filter((cell) => cells.observed(cell).reachable);
  const totalSurviving = reachable.reduce((sum, cell) => sum + cells.surviving(cell), 0);
  const stopping = reachable.reduce((sum, cell) => sum + (cells.ours(cell)?.terminating ?? 0), 0);
  let budget = Math.min(totalSurviving - record.spec.replicas, policy.maxDisruption - stopping);
  if (budget <= 0) return;
  const extras = reachable.filter((cell) => next.refused[cell] === undefined && (next.assigned[cell] ?? 0) > (next.home[cell] ?? 0));
  // fill gives back from its least preferred cell first; spread from the cell most over its share
  if (policy.policy === "fill") extras.reverse();
  else extras.sort((a, b) => next.assigned[b]! - next.home[b]! - (next.assigned[a]! - next.home[a]!));
  const taken: string[] = [];
  for (const cell of extras) {
    if (budget === 0) break;
    const take = Math.min(budget, next.assigned[cell]! - (next.home[cell] ?? 0));
    next.assigned[cell]! -= take;
    budget -= take;
    taken.push(`${take} from ${cell}`);
  }
  if (taken.length > 0) note(next, now, `rebalancing: stopping ${taken.join(", ")} (${totalSurviving} running, ${record.spec.replicas} wanted)`);
}

/** What each reachable cell is asked, so that its member comes to run the cell's share. */
function cellActions({ next, policy, cells }: Pass): CellAction[] {
  const actions: CellAction[] = [];
  for (const cell of policy.cells) {
    const seenHere = cells.observed(cell);
    if (!seenHere.reachable) continue;
    const want = next.assigned[cell] ?? 0;
    const member = seenHere.member;
    if (member !== undefined && !member.ours) continue;
    if (next.refused[cell] !== undefined) {
      // A cell that refused more is still told to run less (a scale down after a refused scale up).
      if (member !== undefined && !member.killed && want > 0 && member.replicas > want) actions.push({ kind: "scale", cell, replicas: want });
      continue;
    }
    if (want === 0) {
      if (member !== undefined && !member.killed && member.live > 0) actions.push({ kind: "kill", cell });
      continue;
    }
    if (member === undefined || member.killed) {
      // a member killed earlier (scaled to nothing) is submitted again once its tasks are gone
      if (member !== undefined && member.live > 0) continue;
      const attempt = (next.submits[cell] ?? 0) + 1;
      next.submits[cell] = attempt;
      actions.push({ kind: "submit", cell, replicas: want, attempt });
      continue;
    }
    if (member.replicas !== want) actions.push({ kind: "scale", cell, replicas: want });
  }
  return actions;
}
