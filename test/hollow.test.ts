import test from "ava";
import { TestCell, eventually } from "@corral/testkit";

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("hollow", { masters: 1, hollow: { processes: 1, machinesEach: 50 }, heartbeatMs: 500, downAfterMs: 3000 });
});
test.after.always(async () => {
  await cell?.stop();
});

test("a hollow borglet registers its simulated machines with mixed shapes and failure domains", async (t) => {
  const nodes = await cell.nodes();
  t.is(nodes.length, 50);
  t.true(nodes.every((node) => node.state === "up" && node.attributes["hollow"] === "true"));
  t.true(new Set(nodes.map((node) => node.attributes["shape"])).size >= 2, "more than one machine shape");
  t.is(new Set(nodes.map((node) => node.attributes["rack"])).size, 2, "40 machines a rack");
  t.is(new Set(nodes.map((node) => node.pid)).size, 1, "all simulated by one process");
});

test("hollow batch tasks finish with exit code 0 after their run time; service tasks run until killed", async (t) => {
  const batch = await cell.submit(
    `job: batchy\nbinary: hollow\nreplicas: 20\nrestart: on-failure\nrequirements: { cpu: 1, ram: 1G }\nenv: { HOLLOW_RUN_MS: "300" }\n`,
    "batchy.yaml",
  );
  const service = await cell.submit(`job: servy\nbinary: hollow\nreplicas: 10\nrequirements: { cpu: 1, ram: 1G }\n`, "servy.yaml");
  const finished = await eventually("batch finished", async () => {
    const job = await cell.job(batch.id);
    return job.summary.dead === 20 ? job : undefined;
  }, 20_000);
  t.true(finished.tasks.every((task) => task.reason === "exited with code 0" && task.exitCode === 0));
  const running = await eventually("service running", async () => {
    const job = await cell.job(service.id);
    return job.summary.running === 10 ? job : undefined;
  }, 20_000);
  t.true(running.tasks.every((task) => task.node?.startsWith("hollow-0-") === true && (task.pid ?? 0) > 0));
  await cell.http("DELETE", `/v1/jobs/${service.id}`);
  const killed = await eventually("service dead", async () => {
    const job = await cell.job(service.id);
    return job.summary.dead === 10 ? job : undefined;
  }, 20_000);
  t.true(killed.tasks.every((task) => task.reason === "killed by user (terminated by SIGTERM)"));
});
