import { decodeJob, decodeMachine, decodeSubmission, MACHINE_FIELD_PREFIX, SUBMISSION_FIELD_PREFIX } from "@corral/state";
import { CellState } from "./cell-state.js";

/** Puts one stored field (a job, a submission outcome or a machine) into the in-memory state. */
export function applyStoredField(state: CellState, field: string, bytes: Buffer): void {
  if (field.startsWith(SUBMISSION_FIELD_PREFIX)) {
    const outcome = decodeSubmission(bytes);
    state.submissions.set(outcome.id, outcome);
  } else if (field.startsWith(MACHINE_FIELD_PREFIX)) {
    // Liveness is not stored: a leader that takes over gives every machine a fresh grace period (LeaderTerm.start).
    state.nodes.set(field.slice(MACHINE_FIELD_PREFIX.length), { ...decodeMachine(field, bytes), lastHeartbeat: Date.now(), epochSeen: 0 });
  } else {
    state.addJob(decodeJob(field, bytes, state.jobs.get(field)));
  }
}

/** Takes one deleted field out of the in-memory state. */
export function removeStoredField(state: CellState, field: string): void {
  if (field.startsWith(SUBMISSION_FIELD_PREFIX)) state.submissions.delete(field.slice(SUBMISSION_FIELD_PREFIX.length));
  else if (field.startsWith(MACHINE_FIELD_PREFIX)) state.nodes.delete(field.slice(MACHINE_FIELD_PREFIX.length));
  else state.removeJob(field);
}

/** The in-memory state of a set of stored records. */
export function stateOfRecords(records: ReadonlyMap<string, Buffer>): CellState {
  const state = new CellState();
  for (const [field, bytes] of records) applyStoredField(state, field, bytes);
  state.clearDirty(); // loaded, not changed
  return state;
}
