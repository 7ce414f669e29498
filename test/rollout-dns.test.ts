// A rollout as a client of the service sees it: resolving the job's healthy tasks through the
// cell's DNS before each request, every request to a task DNS listed succeeds.
import test from "ava";
import { Resolver } from "node:dns/promises";
import { eventually, TestCell } from "@corral/testkit";
import { healthyCount as healthy, webJob, webRoot } from "./support/web-job.js";

let cell: TestCell;
const www = webRoot("rollout-dns");
const REPLICAS = 6;
const MAX_PARALLEL = 2;

test.before(async () => {
  cell = await TestCell.start("rollout-dns", { borglets: 2 });
});
test.after.always(async () => {
  await cell?.stop();
});

const web = (version: string) => webJob({ name: "api", www, version, replicas: REPLICAS, update: `max_parallel = ${MAX_PARALLEL} min_healthy_time = 500ms healthy_deadline = 20s drain = 2s` });

test("an update while a client resolves the job's tasks by DNS before each request: every request to a listed task succeeds, the healthy floor holds, all end on revision 2", async (t) => {
  const submitted = await cell.submit(web("1"));
  const [host, port] = cell.cell.dns!.split(":");
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`${host}:${port}`]);
  const name = `${submitted.id}.corral`;
  await eventually("all healthy and listed", async () => {
    const job = await cell.job(submitted.id);
    const listed = await resolver.resolveSrv(name).catch(() => []);
    return healthy(job) === REPLICAS && listed.length === REPLICAS ? true : undefined;
  }, 60_000);

  let rolling = true;
  const failures: string[] = [];
  let requests = 0;
  const client = (async () => {
    while (rolling) {
      const listed = await resolver.resolveSrv(name).catch(() => []);
      for (const target of listed) {
        const address = await resolver.resolve4(target.name).catch(() => [] as string[]);
        const url = `http://${address[0] ?? host}:${target.port}/`;
        requests += 1;
        const answer = await fetch(url, { signal: AbortSignal.timeout(3000) }).then(
          (response) => (response.ok ? undefined : `${url} answered ${response.status}`),
          (error: unknown) => `${url} (${target.name}): ${(error as Error).message}`,
        );
        if (answer !== undefined) failures.push(answer);
      }
    }
  })();

  let fewestHealthy = Infinity;
  await cell.client.update("api", web("2"), "api.borg", "borg");
  const after = await eventually("revision 2 rolled out", async () => {
    const job = await cell.job(submitted.id);
    fewestHealthy = Math.min(fewestHealthy, healthy(job));
    return job.rollout?.state === "succeeded" && healthy(job) === REPLICAS ? job : undefined;
  }, 120_000);
  rolling = false;
  await client;

  t.deepEqual(failures, [], `${failures.length} of ${requests} requests failed`);
  // A sanity check that the client was at work throughout (each round asks every listed task once).
  t.true(requests >= REPLICAS * 3, `the client kept asking (${requests} requests)`);
  t.true(fewestHealthy >= REPLICAS - MAX_PARALLEL, `never fewer than ${REPLICAS - MAX_PARALLEL} healthy; saw ${fewestHealthy}`);
  t.true(after.tasks.every((task) => task.revision === 2));
});
