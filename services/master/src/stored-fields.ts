import { decodeJob, decodeSubmission, SUBMISSION_FIELD_PREFIX } from "@corral/state";
import { CellState } from "./cell-state.js";

/** Puts one stored field (a job or a submission outcome) into the in-memory state. */
export function applyStoredField(state: CellState, field: string, bytes: Buffer): void {
  if (field.startsWith(SUBMISSION_FIELD_PREFIX)) {
    const outcome = decodeSubmission(bytes);
    state.submissions.set(outcome.id, outcome);
  } else {
    state.addJob(decodeJob(field, bytes, state.jobs.get(field)));
  }
}

/** Takes one deleted field out of the in-memory state. */
export function removeStoredField(state: CellState, field: string): void {
  if (field.startsWith(SUBMISSION_FIELD_PREFIX)) state.submissions.delete(field.slice(SUBMISSION_FIELD_PREFIX.length));
  else state.removeJob(field);
}

/** The in-memory state of a set of stored records. */
export function stateOfRecords(records: ReadonlyMap<string, Buffer>): CellState {
  const state = new CellState();
  for (const [field, bytes] of records) applyStoredField(state, field, bytes);
  state.clearDirty(); // loaded, not changed
  return state;
}
