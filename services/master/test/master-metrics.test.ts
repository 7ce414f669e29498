import test from "ava";
import { parseJobSpec } from "@corral/spec";
import type { JobRecord } from "@corral/state";
import { Registry } from "prom-client";
import { CellState } from "../src/state/cell-state.js";
import { jobRecord } from "./support/leader-harness.js";
import { MasterMetrics, type HeartbeatCounts } from "../src/leader/master-metrics.js";

function job(name: string, priority: string, replicas: number): JobRecord {
  return jobRecord(parseJobSpec(`job: ${name}\nbinary: x\npriority: ${priority}\nreplicas: ${replicas}\nrequirements: { cpu: 0.5, ram: 1G, disk: 1G }\n`, { file: "j.yaml" }));
}

async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)!.get();
  return metric.values.find((v) => Object.entries(labels).every(([key, wanted]) => v.labels[key] === wanted))?.value;
}

test("a standby reports no cell state; a leader its pending tasks by band and tasks by state, when scraped", async (t) => {
  const registry = new Registry();
  const state = new CellState();
  let leading: CellState | undefined;
  new MasterMetrics(registry, { epoch: () => (leading === undefined ? 0 : 7), leaderState: () => leading });
  state.addJob(job("web", "production", 2));
  state.addJob(job("crunch", "batch", 3));

  t.is(await value(registry, "corral_master_is_leader"), 0);
  t.is(await value(registry, "corral_master_epoch"), 0);
  t.is(await value(registry, "corral_master_pending_tasks", { band: "batch" }), undefined, "no series on a standby");

  leading = state;
  t.is(await value(registry, "corral_master_is_leader"), 1);
  t.is(await value(registry, "corral_master_epoch"), 7);
  t.is(await value(registry, "corral_master_pending_tasks", { band: "production" }), 2);
  t.is(await value(registry, "corral_master_pending_tasks", { band: "batch" }), 3);
  t.is(await value(registry, "corral_master_pending_tasks", { band: "monitoring" }), 0, "every band has a series");
  state.transition(state.task("0.web.alice.local")!, { type: "SCHEDULE", node: "n1", ports: [] });
  t.is(await value(registry, "corral_master_pending_tasks", { band: "production" }), 1, "read again at each scrape");
  t.is(await value(registry, "corral_master_tasks", { state: "assigned" }), 1);
  t.is(await value(registry, "corral_master_tasks", { state: "pending" }), 4);

  leading = undefined;
  t.is(await value(registry, "corral_master_tasks", { state: "pending" }), undefined, "stepped down: the series go");
});

test("heartbeat counters add up over terms and never go back", async (t) => {
  const registry = new Registry();
  const metrics = new MasterMetrics(registry, { epoch: () => 0, leaderState: () => undefined });
  const first: HeartbeatCounts = { direct: 0, forwarded: 0, aliveReported: 0 };
  metrics.termStarted(first);
  first.direct += 5;
  first.aliveReported += 2;
  t.is(await value(registry, "corral_master_heartbeats_total", { arrived: "direct" }), 5);
  first.direct += 1; // a handler finishing after the scrape still counts
  const second: HeartbeatCounts = { direct: 0, forwarded: 0, aliveReported: 0 };
  metrics.termStarted(second);
  second.direct += 4;
  second.forwarded += 3;
  t.is(await value(registry, "corral_master_heartbeats_total", { arrived: "direct" }), 10);
  t.is(await value(registry, "corral_master_heartbeats_total", { arrived: "forwarded" }), 3);
  t.is(await value(registry, "corral_master_heartbeats_total", { arrived: "alive_reported" }), 2);
  t.is(await value(registry, "corral_master_terms_won_total"), 2);
});
