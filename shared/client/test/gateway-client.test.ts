import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import test from "ava";
import { ApiError, GatewayClient } from "../index.js";

/** A real HTTP server answering as the gateway does, so the client's own handling is what is tested. */
async function withServer(handle: (request: IncomingMessage, response: ServerResponse) => void, body: (url: string) => Promise<void>): Promise<void> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const json = (response: ServerResponse, status: number, value: unknown) => {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(value));
};

test("a refusal becomes an ApiError with the gateway's status, code, field and issues; the token goes along as a bearer token", async (t) => {
  const users: (string | undefined)[] = [];
  await withServer(
    (request, response) => {
      users.push(request.headers.authorization);
      json(response, 400, { error: { code: "bad_request", message: "job.borg:2: replicas must be at least 1", field: "replicas", issues: [{ file: "job.borg", line: 2, field: "replicas", message: "must be at least 1" }] } });
    },
    async (url) => {
      const error = await t.throwsAsync(new GatewayClient(url, { token: "corral_alice" }).submit("job x {}", "job.borg"), { instanceOf: ApiError });
      t.is(error.status, 400);
      t.is(error.code, "bad_request");
      t.is(error.field, "replicas");
      t.is(error.issues[0]?.line, 2);
      t.regex(error.message, /replicas must be at least 1/);
    },
  );
  t.deepEqual(users, ["Bearer corral_alice"]);
});

test("no gateway: status 0, code unavailable, and the message says how to start a cell", async (t) => {
  let url = "";
  await withServer(() => {}, async (found) => void (url = found));
  const error = await t.throwsAsync(new GatewayClient(url, { token: undefined, timeoutMs: 5000 }).nodes(), { instanceOf: ApiError });
  t.is(error.status, 0);
  t.is(error.code, "unavailable");
  t.regex(error.message, /corral cell up/);
});

test("a job's tasks and the job list are read to their last page", async (t) => {
  await withServer(
    (request, response) => {
      const url = new URL(request.url ?? "/", "http://x");
      const token = url.searchParams.get("continue");
      if (url.pathname === "/v1/jobs") json(response, 200, token === null ? { jobs: [{ id: "a" }], continue: "p2" } : { jobs: [{ id: "b" }] });
      else json(response, 200, token === null ? { job: { id: "web", tasks: [{ index: 0 }], moreTasksFrom: 1 }, continue: "t1" } : { job: { id: "web", tasks: [{ index: 1 }] } });
    },
    async (url) => {
      const client = new GatewayClient(url, { token: "corral_alice" });
      t.deepEqual((await client.allJobs()).jobs.map((job) => job.id), ["a", "b"]);
      const { job } = await client.job("web");
      t.deepEqual(job.tasks.map((task) => task.index), [0, 1]);
      t.false("moreTasksFrom" in job);
    },
  );
});
