import { API_VERBS, subjects } from "./subjects.js";

export interface Listener {
  service: "master" | "scheduler" | "borglet";
  subject: string;
  /** rpc subjects answer malformed input with a typed error; event subjects log and drop it */
  kind: "rpc" | "event";
}

/**
 * Every subject a service listens on, so fault tests can prove that each one refuses
 * malformed input without crashing its service.
 */
export function listenersOf(cell: string, node: string): Listener[] {
  return [
    ...API_VERBS.map((verb): Listener => ({ service: "master", subject: subjects.api(cell, verb), kind: "rpc" })),
    { service: "master", subject: subjects.nodeHeartbeat(cell, node), kind: "event" },
    { service: "master", subject: subjects.nodeEvents(cell, node), kind: "event" },
    { service: "master", subject: subjects.linkAlive(cell), kind: "rpc" },
    { service: "master", subject: subjects.linkHeartbeats(cell), kind: "event" },
    { service: "master", subject: subjects.schedWork(cell), kind: "rpc" },
    { service: "master", subject: subjects.read(cell, "status"), kind: "rpc" },
    { service: "master", subject: subjects.schedPlan(cell), kind: "rpc" },
    { service: "scheduler", subject: subjects.schedKick(cell), kind: "event" },
    { service: "borglet", subject: subjects.nodeCommands(cell, node), kind: "event" },
    { service: "borglet", subject: subjects.nodeLogs(cell, node), kind: "rpc" },
    { service: "borglet", subject: subjects.nodeHeartbeatWanted(cell, node), kind: "event" },
  ];
}
