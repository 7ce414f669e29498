import type { Scenario } from "../scenario.js";
import { churn } from "./churn.js";
import { failover } from "./failover.js";
import { federation } from "./federation.js";
import { latency } from "./latency.js";
import { rollout } from "./rollout.js";
import { machineFailure } from "./machine-failure.js";
import { scale } from "./scale.js";
import { scheduler } from "./scheduler.js";
import { shortTasks } from "./short-tasks.js";
import { start } from "./start.js";
import { steady } from "./steady.js";
import { throughput } from "./throughput.js";

export const SCENARIOS: readonly Scenario[] = [throughput, latency, churn, machineFailure, failover, steady, scheduler, start, shortTasks, federation, scale, rollout];
