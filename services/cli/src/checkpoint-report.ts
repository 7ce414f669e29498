import { CheckpointStore, type Redis } from "@corral/kit";
import { READABLE_RECORDS_VERSIONS, RECORDS_VERSION, summarizeRecords, type RecordsSummary } from "@corral/state";
import { table } from "./format.js";

export interface CheckpointReport {
  cell: string;
  checkpoint:
    | {
        position: string;
        takenAt: string;
        ageS: number;
        epoch: number;
        format: number;
        machineVersion: number;
        compatible: boolean;
        bytes: number;
        records: number;
        holds: RecordsSummary;
      }
    | undefined;
  log: { entries: number; first: string | undefined; last: string | undefined };
  /** what a master recovering now would start from: the checkpoint plus the log after it */
  recovered: { position: string; replayed: number; records: number } | { error: string };
  readsVersion: number;
}

/** What the cell's stored checkpoint holds, and how much log a recovery would replay on top of it. */
export async function inspectCheckpoint(redis: Redis, cell: string): Promise<CheckpointReport> {
  const store = new CheckpointStore(redis, cell, RECORDS_VERSION, READABLE_RECORDS_VERSIONS);
  const checkpoint = await store.read();
  const log = { entries: await store.logLength(), first: await store.firstLogId(), last: await store.lastLogId() };
  let recovered: CheckpointReport["recovered"];
  try {
    const state = await store.recover();
    recovered = { position: state.position, replayed: state.replayed, records: state.records.size };
  } catch (error) {
    recovered = { error: (error as Error).message };
  }
  return {
    cell,
    checkpoint:
      checkpoint === undefined
        ? undefined
        : {
            position: checkpoint.position,
            takenAt: new Date(checkpoint.takenAt).toISOString(),
            ageS: Math.round((Date.now() - checkpoint.takenAt) / 1000),
            epoch: checkpoint.epoch,
            format: checkpoint.format,
            machineVersion: checkpoint.machineVersion,
            compatible: READABLE_RECORDS_VERSIONS.includes(checkpoint.machineVersion),
            bytes: checkpoint.bytes,
            records: checkpoint.records.size,
            holds: summarizeRecords(checkpoint.records),
          },
    log,
    recovered,
    readsVersion: RECORDS_VERSION,
  };
}

export function checkpointText(report: CheckpointReport): string {
  const lines: string[] = [];
  const { checkpoint } = report;
  if (checkpoint === undefined) {
    lines.push(`cell ${report.cell}: no checkpoint yet; the state is the change log alone`);
  } else {
    const rows = table(["CHECKPOINT", ""]);
    rows.push(
      ["position", checkpoint.position],
      ["taken", `${checkpoint.takenAt} (${checkpoint.ageS}s ago) in epoch ${checkpoint.epoch}`],
      ["size", `${checkpoint.bytes.toLocaleString("en-US")} bytes, ${checkpoint.records.toLocaleString("en-US")} records`],
      ["version", `format ${checkpoint.format}, task lifecycle ${checkpoint.machineVersion}${checkpoint.compatible ? "" : ` (INCOMPATIBLE: this version reads ${report.readsVersion})`}`],
      ["jobs", `${checkpoint.holds.jobs} (${checkpoint.holds.killedJobs} killed)`],
      ["tasks", `${checkpoint.holds.tasks}: ${Object.entries(checkpoint.holds.tasksByState).map(([state, n]) => `${n} ${state}`).join(", ") || "none"}`],
      ["users", Object.entries(checkpoint.holds.jobsByUser).map(([user, n]) => `${user} ${n}`).join(", ") || "none"],
      ["submissions", String(checkpoint.holds.submissions)],
    );
    if (checkpoint.holds.unreadable.length > 0) rows.push(["unreadable", `${checkpoint.holds.unreadable.length}, e.g. ${checkpoint.holds.unreadable[0]!.error}`]);
    lines.push(`cell ${report.cell}`, rows.toString());
  }
  lines.push(`change log: ${report.log.entries} entries kept${report.log.first === undefined ? "" : ` (${report.log.first} … ${report.log.last})`}`);
  lines.push(
    "error" in report.recovered
      ? `recovery now: fails: ${report.recovered.error}`
      : `recovery now: checkpoint + ${report.recovered.replayed} log entries = ${report.recovered.records} records at ${report.recovered.position}`,
  );
  return lines.join("\n");
}
