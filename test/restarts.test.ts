import test from "ava";
import type { WhyPending } from "@corral/contracts";
import { TestCell } from "@corral/testkit";

let cell: TestCell;
test.before(async () => {
  cell = await TestCell.start("restarts", { masters: 1, borglets: 2 });
});
test.after.always(async () => {
  await cell?.stop();
});

test("a crash-looping task restarts with growing backoff, on another machine than the one it crashed on, and why says so", async (t) => {
  const job = await cell.submit(`
job crashy = {
  binary = '/bin/sh'
  args = ['-c', 'sleep 0.5; exit 3']
  requirements = { ram = 10M  cpu = 0.01 }
  replicas = 1
  restart = 'always'
}`);
  const nodeOf = new Map<number, string>();
  let sawBackoff: WhyPending | undefined;
  let sawNextTry = false;
  const until = Date.now() + 8000;
  while (Date.now() < until) {
    const task = (await cell.job(job.id)).tasks[0]!;
    if (task.node !== undefined && task.state === "running") nodeOf.set(task.incarnation, task.node);
    if (task.nextTryAt !== undefined) {
      sawNextTry = true;
      sawBackoff ??= (await cell.http<WhyPending>("GET", `/v1/jobs/${job.id}/why`)).body;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const restarts = (await cell.job(job.id)).tasks[0]!.restarts;
  // Runs of 0.5 s with backoffs of 0, 1, 2, 4 s: four or five runs in 8 s, not the fifteen it would be without.
  t.true(restarts >= 3 && restarts <= 5, `restarted ${restarts} times`);
  t.true(sawNextTry, "ps shows when the next try is");
  t.regex(sawBackoff?.advice[0] ?? "", /exited \d+ times in a row \(last: exited with code 3\); it is placed again in \d+ s \(restart backoff\)/);
  t.not(nodeOf.get(1), undefined, "the second run was seen");
  t.not(nodeOf.get(1), nodeOf.get(0), "the second run went to the other machine");
});
