import type { FastifyInstance } from "fastify";
import { addUserBodySchema, userNameSchema } from "@corral/contracts";
import { validate } from "../requests.js";
import { authorizeAdmin } from "../auth/authorization.js";
import type { UserRegistry } from "../auth/user-registry.js";

/** Who the caller is, and, for admins, the cell's users: add (the token is shown once), list, revoke. */
export function registerUsers(app: FastifyInstance, users: UserRegistry): void {
  app.get("/v1/whoami", async (request) => ({ user: request.identity }));

  app.get("/v1/users", async (request) => {
    authorizeAdmin(request.identity, "list users");
    return { users: users.list() };
  });

  app.post("/v1/users", async (request, reply) => {
    authorizeAdmin(request.identity, "add users");
    const { name, role } = validate(addUserBodySchema, request.body, "body");
    request.auditTarget = name;
    return reply.code(201).send(await users.add(name, role, request.identity.name));
  });

  app.delete<{ Params: { name: string } }>("/v1/users/:name", async (request) => {
    authorizeAdmin(request.identity, "revoke users");
    const name = validate(userNameSchema, request.params.name, "name");
    return { user: await users.revoke(name) };
  });
}
