import type { Scenario } from "../scenario.js";
import { churn } from "./churn.js";
import { failover } from "./failover.js";
import { latency } from "./latency.js";
import { machineFailure } from "./machine-failure.js";
import { throughput } from "./throughput.js";

export const SCENARIOS: readonly Scenario[] = [throughput, latency, churn, machineFailure, failover];
