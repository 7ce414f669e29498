import type { RedisDurability } from "./servers.js";
import type { ServiceForm } from "./service-launch.js";

/** What `startLocalCell` starts, and how. */
export interface CellOptions {
  dir: string;
  cell?: string;
  borglets?: number;
  masters?: number;
  schedulers?: number;
  /** a machine silent this long is marked down */
  downAfterMs?: number;
  leaseTtlMs?: number;
  /** how often a standby checkpoints the cell's state */
  checkpointEveryMs?: number;
  /** the cell's quota file (per user per band); default: none, every user unlimited */
  quotaFile?: string;
  /** in a federation, a cell's own quota file instead of `quotaFile` */
  quotaFiles?: Record<string, string>;
  /** masters' --reservation-half-life (resource reclamation) */
  reservationHalfLifeMs?: number;
  heartbeatMs?: number;
  portsPerBorglet?: number;
  redisDurability?: RedisDurability;
  /** instead of real borglets: this many hollow borglet processes, each simulating `machinesEach` machines */
  hollow?: { processes: number; machinesEach: number };
  /** resources each borglet announces; default: the host's */
  borgletCapacity?: { cpu?: number; ram?: string; disk?: string };
  /**
   * NATS and the gateway speak TLS, with a CA of the cell's own (DIR/tls/). Default: on for a
   * multi-host cell, whose traffic crosses hosts; off on one host, where it stays on loopback.
   */
  tls?: boolean;
  /** an OpenID Connect issuer whose tokens sign the cell's users in at its gateways, besides the cell's own tokens */
  oidc?: { issuer: string; audience: string; usernameClaim?: string };
  /** the most processes and threads one host task may have (each borglet's --task-pids-max); default the borglet's */
  taskPidsMax?: number;
  /** attributes of borglet i (rack, power, arch, …); default: each machine its own rack */
  borgletAttributes?: (index: number) => Record<string, string>;
  /** the runtimes borglet i offers (its --runtimes, like `isolated`); default: every one */
  borgletRuntimes?: (index: number) => string | undefined;
  /** progress lines for people */
  onProgress?: (message: string) => void;
  /** a federation: these cells, each with its own redis-server, masters, schedulers and borglets, on one nats-server */
  cells?: string[];
  /** gateways in front of the cells (default 1) */
  gateways?: number;
  /** gateways' --cell-down-after: a cell unanswering this long has its share of federated jobs placed elsewhere */
  cellDownAfterMs?: number;
  /**
   * With `cells`: each cell gets its own nats-server (a NATS cluster named after the cell,
   * with its own JetStream store), and NATS gateways join them into one super-cluster. A
   * cell's services connect to their cell's server; the gateways to the first cell's, and
   * reach the others through the NATS gateways. See deploy/nats/README.md.
   */
  natsPerCell?: boolean;
  /**
   * A cell (not a federation) on this many nats-servers routed into one NATS cluster; every
   * service is given all their URLs and reconnects to another when its server goes. Default 1.
   */
  natsServers?: number;
  /**
   * The cell's Redis as a primary, a replica and three Sentinels (a cell, not a federation):
   * the masters reach it as sentinel://…/<cell>, follow a promotion, and wait for the replica
   * on every commit and won epoch (--redis-wait-replicas 1).
   */
  redisSentinels?: boolean;
  /** copies JetStream keeps of the cell's streams and buckets (--js-replicas); default: 3 on 3 or more nats-servers, else 1 */
  jsReplicas?: number;
  /**
   * The cell stops when the process that starts it exits or is killed (even by SIGKILL)
   * without stopping it: for load tests and tests. Stop such a cell with `stopStartedCell`
   * or `stopLocalCell`. Off for `corral cell up`, whose cell outlives the command.
   */
  dieWithStarter?: boolean;
  /**
   * A multi-host cell (root only): this many network namespaces as hosts on one bridge, each
   * with its own address; with 3 or more, a NATS cluster and Redis with Sentinels spread over
   * them (see multi-host-cell.ts). Decides the NATS servers and Redis itself.
   */
  hosts?: number;
  /** the name of the cell's first admin, whose token is made in `dir`/admin.token (default `admin`) */
  admin?: string;
  /** run the services from `npm run build`'s output on plain node rather than from source (default: source) */
  form?: ServiceForm;
}

